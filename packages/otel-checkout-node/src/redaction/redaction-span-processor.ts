import type { Context } from '@opentelemetry/api';
import { trace } from '@opentelemetry/api';
import type { ReadableSpan, Span, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createRedactor, DEFAULT_EXEMPT_KEYS } from '@otel-checkout/core';
import type { Redactor } from '@otel-checkout/core';
import { tokenNamesSnapshot, tokenNamesVersion } from '../callback/token-header.js';
import { HEALTH_HOOK_ERRORS, HEALTH_REDACTIONS } from '../health-names.js';
import type { HealthCounters } from '../health.js';
import { runtime } from '../runtime.js';
import { maskCutValues, valueLengthLimitOf } from './cut-values.js';
import { redactTraceStates } from './trace-state.js';
import type { RedactionSpanProcessorOptions } from './types.js';
import { isThenable } from '../middleware/guard.js';
import { KeptOptionProblems } from '../option-names.js';
import { usableRedactionOptions } from './redaction-option-checks.js';

/**
 * Marks a redaction processor, so a setup can find one in an application's own SDK even when
 * the application loaded another copy of this package (ESM and CJS builds side by side):
 * `Symbol.for` gives every copy the same symbol.
 */
export const REDACTION_PROCESSOR_MARKER: unique symbol = Symbol.for('@otel-checkout/node.RedactionSpanProcessor');

/** Set on `globalThis` once any redaction processor (of any copy of this package) has seen a span end. */
const SEEN_SPAN_MARKER = Symbol.for('@otel-checkout/node.RedactionSpanProcessor.seenSpan');

/**
 * Redacts every span before any exporter sees it: card numbers, denylisted keys, secrets in
 * URLs and free text, in the span name, status message, attributes, events (exception
 * messages and stacks included) and links. The rules are `@otel-checkout/core`'s; a value
 * that the span's `attributeValueLengthLimit` may have cut also has its trailing digits
 * masked (see `cut-values.ts`).
 *
 * The work happens in `onEnding`, which the SDK (2.x) calls on every processor while the span
 * is still writable and before any processor's `onEnd`, so the order of processors does not
 * matter and exporters only ever receive redacted spans. On an SDK that never calls
 * `onEnding`, the span is redacted in `onEnd` instead, which protects the processors placed
 * after this one: put it first.
 */
export class RedactionSpanProcessor implements SpanProcessor {
  readonly [REDACTION_PROCESSOR_MARKER] = true;
  private readonly options: RedactionSpanProcessorOptions;
  private redactor: Redactor | undefined;
  /** No `flowTokenParameter` was given: the redactor scrubs the running setup's `tokenParam`. */
  private readonly followsTokenParam: boolean;
  /** The flow token parameter `redactor` was made for, when it follows the setup. */
  private redactorTokenParameter: string | undefined;
  /** The version of the callbacks' token names `redactor` was made for. */
  private redactorTokenNames = -1;
  private readonly onRedaction: ((count: number) => void) | undefined;
  /** Keys whose cut values are left as they are; `undefined` when card numbers are not masked at all. */
  private readonly cutExemptKeys: ReadonlySet<string> | undefined;
  private onEndingCalled = false;
  /**
   * Problems with the options of a processor made for the application's own SDK, reported
   * when the first span ends (then the running setup's handle counts them); `undefined` once
   * reported or when there were none.
   */
  private optionProblems: KeptOptionProblems | undefined;

  /**
   * @param options the redaction rules and reporting hook (all optional). Unusable ones (an
   *   unknown name, a list given as a string, a switch that is not a boolean) are reported in
   *   the running setup's `configProblems`, and said once, when the first span ends.
   * @param health counters to add redactions to; by default those of the running
   *   `startCheckoutTracing` handle, looked up when a redaction happens. Given by the setup,
   *   which checked the options itself.
   */
  constructor(
    options?: RedactionSpanProcessorOptions,
    private readonly health?: HealthCounters,
  ) {
    if (health === undefined) {
      const problems = new KeptOptionProblems();
      options = usableRedactionOptions(options, 'RedactionSpanProcessor', problems);
      if (!problems.empty) this.optionProblems = problems;
    }
    options ??= {};
    this.options = options;
    // Given a flow token parameter, it keeps to it; otherwise it follows the running setup's
    // `flows.tokenParam` (see `redactorForSpan`).
    this.followsTokenParam = typeof options.flowTokenParameter !== 'string' || options.flowTokenParameter === '';
    this.onRedaction = typeof options.onRedaction === 'function' ? options.onRedaction : undefined;
    const masksCards = options.enabled !== false && options.cardNumbers !== false;
    const extraExempt = Array.isArray(options.exemptKeys) ? options.exemptKeys.filter((key) => typeof key === 'string') : [];
    this.cutExemptKeys = masksCards ? new Set([...DEFAULT_EXEMPT_KEYS, ...extraExempt]) : undefined;
  }

  onStart(_span: Span, _parentContext: Context): void {
    // Attributes set at start are still on the span when it ends; redacting once, at the end, is enough.
  }

  onEnding(span: Span): void {
    this.onEndingCalled = true;
    this.redact(span);
  }

  onEnd(span: ReadableSpan): void {
    if (!this.onEndingCalled) this.redact(span);
  }

  forceFlush(): Promise<void> {
    return Promise.resolve();
  }

  shutdown(): Promise<void> {
    return Promise.resolve();
  }

  private redact(span: ReadableSpan): void {
    markSeen();
    if (this.optionProblems !== undefined) {
      this.optionProblems.reportTo(this.counters());
      this.optionProblems = undefined;
    }
    let count: number;
    try {
      // The SDK span is a plain mutable object underneath its read-only typing; it is still
      // open in onEnding, so changing it here is what every later processor sees.
      // Cut values first: the other rules can change a value's length, and the limit is
      // the only sign that a value was cut.
      const exempt = this.cutExemptKeys;
      const limit = exempt === undefined ? undefined : valueLengthLimitOf(span);
      count = exempt === undefined || limit === undefined ? 0 : maskCutValues(span, limit, exempt);
      const redactor = this.redactorForSpan();
      count += redactor.redactSpan(span);
      count += redactTraceStates(span, redactor);
    } catch (error) {
      // redactSpan does not throw; this guards the host against a bug all the same.
      this.counters().warnOnce('redaction-failed', 'redacting a span failed', error);
      return;
    }
    if (count === 0) return;
    const counters = this.counters();
    counters.increment(HEALTH_REDACTIONS, count);
    if (this.onRedaction !== undefined) {
      const failed = (error: unknown): void => {
        counters.increment(HEALTH_HOOK_ERRORS);
        counters.warnOnce('onRedaction', 'the onRedaction hook threw; redaction goes on without it', error);
      };
      try {
        const result: unknown = this.onRedaction(count);
        // An async hook's rejection is its error too, never an unhandled rejection that ends the process.
        if (isThenable(result)) Promise.resolve(result).then(undefined, failed);
      } catch (error) {
        failed(error);
      }
    }
  }

  /**
   * The redactor for the running setup. A custom `flows.tokenParam` carries the flow token under
   * another name, which must be scrubbed too; an application's own SDK makes this processor
   * before `startCheckoutTracing` runs, so the name is read when spans end (one comparison; the
   * redactor is made again only when the name changes). So are the names callbacks take
   * tokens under, which become known as callbacks run (see `rememberTokenNames`).
   */
  private redactorForSpan(): Redactor {
    const tokenParameter = this.followsTokenParam ? runtime().flows.tokenParam : this.options.flowTokenParameter;
    if (this.redactor === undefined || tokenParameter !== this.redactorTokenParameter || tokenNamesVersion() !== this.redactorTokenNames) {
      const { names, version } = tokenNamesSnapshot();
      this.redactor = createRedactor(withTokenNames({ ...this.options, flowTokenParameter: tokenParameter }, names));
      this.redactorTokenParameter = tokenParameter;
      this.redactorTokenNames = version;
    }
    return this.redactor;
  }

  private counters(): HealthCounters {
    return this.health ?? runtime().health;
  }
}

/**
 * The rules plus the names callbacks take flow tokens under (the default `x-otc-flow` header,
 * each callback's own `header`, `bodyFields` and `passbackField`) as sensitive names: they
 * match none of the built-in ones, so an application recording request headers
 * (`http.request.header.x-otc-flow`) or a callback's body would export the token.
 */
function withTokenNames(options: RedactionSpanProcessorOptions, names: readonly string[]): RedactionSpanProcessorOptions {
  const sensitiveKeys: readonly string[] = Array.isArray(options.sensitiveKeys) ? (options.sensitiveKeys as readonly string[]) : [];
  return { ...options, sensitiveKeys: [...sensitiveKeys, ...names] };
}

/** A redaction processor with all rules on (`options` changes them). */
export function createRedactionSpanProcessor(options?: RedactionSpanProcessorOptions, health?: HealthCounters): RedactionSpanProcessor {
  return new RedactionSpanProcessor(options, health);
}

/** True for a redaction processor from any copy of this package. */
export function isRedactionProcessor(processor: unknown): boolean {
  return (
    typeof processor === 'object' &&
    processor !== null &&
    (processor as { [REDACTION_PROCESSOR_MARKER]?: unknown })[REDACTION_PROCESSOR_MARKER] === true
  );
}

/** Processors nested deeper than this are not looked at (a provider holds a flat list in practice). */
const MAX_DEPTH = 4;

/**
 * Whether `tracerProvider` (by default the globally registered one) runs a redaction
 * processor: `true` found, `false` its processors were all looked at and none is one,
 * `undefined` the provider is not an SDK provider this function can look into. Reads the
 * SDK's internal processor list (`_activeSpanProcessor._spanProcessors`, SDK 1.x and 2.x);
 * `redactionProcessorHasSeenSpans()` is the check that needs no internals.
 */
export function hasRedactionProcessor(tracerProvider: unknown = trace.getTracerProvider()): boolean | undefined {
  try {
    let provider = tracerProvider as { getDelegate?: () => unknown; _activeSpanProcessor?: unknown } | null;
    if (provider !== null && typeof provider === 'object' && typeof provider.getDelegate === 'function') {
      provider = provider.getDelegate() as typeof provider;
    }
    if (provider === null || typeof provider !== 'object' || provider._activeSpanProcessor === undefined) return undefined;
    return containsRedactionProcessor(provider._activeSpanProcessor, 0);
  } catch {
    return undefined;
  }
}

function containsRedactionProcessor(processor: unknown, depth: number): boolean | undefined {
  if (isRedactionProcessor(processor)) return true;
  if (typeof processor !== 'object' || processor === null) return undefined;
  const children = (processor as { _spanProcessors?: unknown })._spanProcessors;
  if (!Array.isArray(children)) return false;
  if (depth >= MAX_DEPTH) return undefined;
  let unsure = false;
  for (const child of children as unknown[]) {
    const found = containsRedactionProcessor(child, depth + 1);
    if (found === true) return true;
    if (found === undefined) unsure = true;
  }
  return unsure ? undefined : false;
}

function markSeen(): void {
  const global = globalThis as { [SEEN_SPAN_MARKER]?: boolean };
  if (global[SEEN_SPAN_MARKER] !== true) global[SEEN_SPAN_MARKER] = true;
}

/**
 * True once a redaction processor in this process has processed a span. A setup that sees
 * payment spans end while this stays false knows the application's SDK lacks the processor.
 */
export function redactionProcessorHasSeenSpans(): boolean {
  return (globalThis as { [SEEN_SPAN_MARKER]?: boolean })[SEEN_SPAN_MARKER] === true;
}
