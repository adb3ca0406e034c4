import { diag, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import type { Attributes, AttributeValue, Context, Exception, HrTime, Link, Span, SpanContext, SpanStatus, TimeInput } from '@opentelemetry/api';
import { addHrTimes, hrTimeDuration, isAttributeValue, isTimeInput, isTimeInputHrTime, millisToHrTime, otperformance, sanitizeAttributes } from '@opentelemetry/core';
import type { ReadableSpan, SpanLimits, TimedEvent } from '@opentelemetry/sdk-trace-base';
import { ATTR_EXCEPTION_MESSAGE, ATTR_EXCEPTION_STACKTRACE, ATTR_EXCEPTION_TYPE } from '@opentelemetry/semantic-conventions';

/** What a light span needs of the SDK's tracer: its processors and its limits, resource and scope. */
export interface LightSpanPipeline {
  readonly processor: {
    onStart(span: never, context: never): void;
    onEnding?(span: never): void;
    onEnd(span: never): void;
  };
  readonly limits: SpanLimits;
  readonly resource: ReadableSpan['resource'];
  readonly scope: ReadableSpan['instrumentationScope'];
}

// Shared by every span until it ends (then replaced, never written): frozen so nobody can.
const NOT_ENDED = Object.freeze([0, 0]) as unknown as HrTime;
const NO_DURATION = Object.freeze([-1, -1]) as unknown as HrTime;

/**
 * The HTTP server span this package makes itself (lean mode's payment routes, default mode's
 * every request), written for that one job instead of made by the SDK's tracer.
 *
 * It behaves as the SDK's span does for everything the API and a span processor can see: the
 * same attribute rules and limits, events and links with their limits, status rules, times
 * (wall-clock start, monotonic duration), `onStart`/`onEnding`/`onEnd` on the SDK's
 * processors, and it is a `ReadableSpan` for any exporter. What it leaves out is the cost of
 * the general path, measured on a payment route (`bench/node-overhead`): the tracer copies
 * the start attributes twice before the span copies them a third time, and allocates
 * self-metrics bookkeeping per span even with no meter. Here the attributes are checked into
 * one object, and the time arrays are made when the span ends rather than when it starts.
 */
export class LightServerSpan implements Span, ReadableSpan {
  readonly kind = SpanKind.SERVER;
  readonly attributes: Attributes = {};
  readonly links: Link[] = [];
  readonly events: TimedEvent[] = [];
  status: SpanStatus = { code: SpanStatusCode.UNSET };
  endTime: HrTime = NOT_ENDED;
  duration: HrTime = NO_DURATION;
  ended = false;
  droppedAttributesCount = 0;
  droppedEventsCount = 0;
  droppedLinksCount = 0;
  private attributeCount = 0;
  private readonly startMillis: number;
  private readonly performanceStart: number;
  private start: HrTime | undefined;

  constructor(
    private readonly pipeline: LightSpanPipeline,
    private readonly context: SpanContext,
    public name: string,
    readonly parentSpanContext: SpanContext | undefined,
    attributes: Attributes,
    parentContext: Context,
  ) {
    // As the SDK does: a wall-clock start, and the duration from the monotonic clock.
    this.startMillis = Date.now();
    this.performanceStart = otperformance.now();
    this.setAttributes(attributes);
    pipeline.processor.onStart(this as never, parentContext as never);
  }

  /**
   * The limits, where the SDK's span keeps them: the redaction processor reads them there to
   * know which values the length limit may have cut.
   */
  get _spanLimits(): SpanLimits {
    return this.pipeline.limits;
  }

  get resource(): ReadableSpan['resource'] {
    return this.pipeline.resource;
  }

  get instrumentationScope(): ReadableSpan['instrumentationScope'] {
    return this.pipeline.scope;
  }

  get startTime(): HrTime {
    return (this.start ??= millisToHrTime(this.startMillis));
  }

  spanContext(): SpanContext {
    return this.context;
  }

  isRecording(): boolean {
    return !this.ended;
  }

  setAttribute(key: string, value: AttributeValue | undefined): this {
    if (value == null || this.refusedAfterEnd()) return this;
    if (key.length === 0) {
      diag.warn(`Invalid attribute key: ${key}`);
      return this;
    }
    if (!isAttributeValue(value)) {
      diag.warn(`Invalid attribute value set for key: ${key}`);
      return this;
    }
    const isNew = !Object.prototype.hasOwnProperty.call(this.attributes, key);
    const limit = this.pipeline.limits.attributeCountLimit;
    if (isNew && limit !== undefined && this.attributeCount >= limit) {
      this.droppedAttributesCount += 1;
      return this;
    }
    this.attributes[key] = this.truncated(value);
    if (isNew) this.attributeCount += 1;
    return this;
  }

  setAttributes(attributes: Attributes): this {
    for (const key in attributes) {
      if (Object.prototype.hasOwnProperty.call(attributes, key)) this.setAttribute(key, attributes[key]);
    }
    return this;
  }

  addEvent(name: string, attributesOrTime?: Attributes | TimeInput, time?: TimeInput): this {
    if (this.refusedAfterEnd()) return this;
    const { eventCountLimit, attributePerEventCountLimit } = this.pipeline.limits;
    const room = makeRoom(this.events, eventCountLimit);
    if (room !== ROOM) this.droppedEventsCount += 1;
    if (room === NO_ROOM) return this;
    let attributes: Attributes | undefined;
    if (isTimeInput(attributesOrTime)) {
      if (!isTimeInput(time)) time = attributesOrTime;
    } else {
      attributes = attributesOrTime;
    }
    const { kept, dropped } = this.limited(attributes, attributePerEventCountLimit);
    this.events.push({ name, attributes: kept, time: this.timeOf(time), droppedAttributesCount: dropped });
    return this;
  }

  addLink(link: Link): this {
    if (this.refusedAfterEnd()) return this;
    const { linkCountLimit, attributePerLinkCountLimit } = this.pipeline.limits;
    const room = makeRoom(this.links, linkCountLimit);
    if (room !== ROOM) this.droppedLinksCount += 1;
    if (room === NO_ROOM) return this;
    const { kept, dropped, count } = this.limited(link.attributes, attributePerLinkCountLimit);
    const stored: Link = { context: link.context };
    if (count > 0) stored.attributes = kept;
    if (dropped > 0) stored.droppedAttributesCount = dropped;
    this.links.push(stored);
    return this;
  }

  addLinks(links: Link[]): this {
    for (const link of links) this.addLink(link);
    return this;
  }

  setStatus(status: SpanStatus): this {
    if (this.refusedAfterEnd()) return this;
    // UNSET changes nothing, and OK is final (the specification's status rules).
    if (status.code === SpanStatusCode.UNSET || this.status.code === SpanStatusCode.OK) return this;
    const next: SpanStatus = { code: status.code };
    if (status.code === SpanStatusCode.ERROR && typeof status.message === 'string') next.message = status.message;
    this.status = next;
    return this;
  }

  updateName(name: string): this {
    if (!this.refusedAfterEnd()) this.name = name;
    return this;
  }

  recordException(exception: Exception, time?: TimeInput): void {
    const attributes: Attributes = {};
    if (typeof exception === 'string') {
      attributes[ATTR_EXCEPTION_MESSAGE] = exception;
    } else if (exception) {
      if (exception.code) attributes[ATTR_EXCEPTION_TYPE] = String(exception.code);
      else if (exception.name) attributes[ATTR_EXCEPTION_TYPE] = exception.name;
      if (exception.message) attributes[ATTR_EXCEPTION_MESSAGE] = exception.message;
      if (exception.stack) attributes[ATTR_EXCEPTION_STACKTRACE] = exception.stack;
    }
    if (attributes[ATTR_EXCEPTION_TYPE] !== undefined || attributes[ATTR_EXCEPTION_MESSAGE] !== undefined) {
      this.addEvent('exception', attributes, time);
    } else {
      diag.warn('Failed to record an exception: it has neither a type nor a message');
    }
  }

  end(endTime?: TimeInput): void {
    if (this.refusedAfterEnd()) return;
    this.endTime = this.timeOf(endTime);
    this.duration = hrTimeDuration(this.startTime, this.endTime);
    if (this.duration[0] < 0) {
      diag.warn('Inconsistent start and end time, startTime > endTime. Setting span duration to 0ms.');
      this.endTime = this.startTime.slice() as HrTime;
      this.duration = [0, 0];
    }
    const processor = this.pipeline.processor;
    // Processors that redact do it in onEnding, while the span still takes changes.
    processor.onEnding?.(this as never);
    this.ended = true;
    processor.onEnd(this as never);
  }

  private refusedAfterEnd(): boolean {
    if (!this.ended) return false;
    diag.warn(`Cannot execute the operation on ended Span {traceId: ${this.context.traceId}, spanId: ${this.context.spanId}}`);
    return true;
  }

  /** A time given to `addEvent` or `end`, read as the SDK reads it; none given is now, on the monotonic clock. */
  private timeOf(input: TimeInput | undefined): HrTime {
    if (input === undefined) return addHrTimes(this.startTime, millisToHrTime(otperformance.now() - this.performanceStart));
    if (typeof input === 'number') {
      // Small numbers are milliseconds of the performance clock, as `performance.now()` gives them.
      return input <= otperformance.now() ? millisToHrTime(input + this.startMillis - this.performanceStart) : millisToHrTime(input);
    }
    if (input instanceof Date) return millisToHrTime(input.getTime());
    if (isTimeInputHrTime(input)) return input;
    return millisToHrTime(Date.now());
  }

  private truncated(value: AttributeValue): AttributeValue {
    const limit = this.pipeline.limits.attributeValueLengthLimit;
    if (limit === undefined || limit <= 0 || !Number.isFinite(limit)) return value;
    if (typeof value === 'string') return value.length <= limit ? value : value.substring(0, limit);
    if (Array.isArray(value)) return value.map((item: unknown) => (typeof item === 'string' && item.length > limit ? item.substring(0, limit) : item)) as AttributeValue;
    return value;
  }

  /** The valid attributes of an event or link, truncated, up to `limit` of them, and how many were dropped. */
  private limited(attributes: Attributes | undefined, limit: number | undefined): { kept: Attributes; dropped: number; count: number } {
    const kept: Attributes = {};
    let dropped = 0;
    let count = 0;
    const sanitized = sanitizeAttributes(attributes);
    for (const key in sanitized) {
      if (!Object.prototype.hasOwnProperty.call(sanitized, key)) continue;
      if (limit !== undefined && count >= limit) {
        dropped += 1;
        continue;
      }
      kept[key] = this.truncated(sanitized[key]!);
      count += 1;
    }
    return { kept, dropped, count };
  }
}

const ROOM = 0;
const OLDEST_DROPPED = 1;
const NO_ROOM = 2;

/**
 * Makes room for one more event or link under `limit`, as the SDK does: none at all with a
 * limit of 0, else the oldest goes when the list is full (the latest say most about how the
 * request ended). Either way one entry is lost, which the caller counts.
 */
function makeRoom(list: unknown[], limit: number | undefined): typeof ROOM | typeof OLDEST_DROPPED | typeof NO_ROOM {
  if (limit === 0) return NO_ROOM;
  if (limit === undefined || list.length < limit) return ROOM;
  list.shift();
  return OLDEST_DROPPED;
}
