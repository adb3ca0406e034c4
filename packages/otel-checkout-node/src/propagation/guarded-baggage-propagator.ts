import { defaultTextMapGetter } from '@opentelemetry/api';
import type { Context, TextMapGetter, TextMapPropagator, TextMapSetter } from '@opentelemetry/api';
import { W3CBaggagePropagator } from '@opentelemetry/core';
import type { HealthCounters } from '../health.js';
import { HEALTH_BAGGAGE_DROPPED, HEALTH_MALFORMED_BAGGAGE, HEALTH_OVERSIZE_HEADERS } from '../health-names.js';
import { runtime } from '../runtime.js';
import { filterContextBaggage } from './baggage-filter.js';
import type { BaggageLimits } from './baggage-filter.js';

const BAGGAGE_HEADER = 'baggage';

/**
 * W3C baggage for untrusted clients: an oversize header is ignored whole, malformed members
 * are counted, and only allow-listed entries within the limits enter the context.
 */
export class GuardedBaggagePropagator implements TextMapPropagator {
  private readonly inner = new W3CBaggagePropagator();

  /**
   * @param limits the allow-list and bounds; by default those of the running
   *   `startCheckoutTracing` (its `baggage` option), looked up at each extract.
   * @param health counters to count in; by default those of the running setup.
   */
  constructor(
    private readonly limits?: BaggageLimits,
    private readonly health?: HealthCounters,
  ) {}

  inject(context: Context, carrier: unknown, setter: TextMapSetter): void {
    this.inner.inject(context, carrier, setter);
  }

  extract(context: Context, carrier: unknown, getter: TextMapGetter = defaultTextMapGetter): Context {
    const raw = getter.get(carrier, BAGGAGE_HEADER);
    if (raw === undefined) return context;
    // Given at construction by the package's own SDK; an application's SDK gets the running setup's.
    const limits = this.limits ?? runtime().baggageLimits;
    const health = this.health ?? runtime().health;
    const header = Array.isArray(raw) ? raw.join(',') : raw;
    if (header.length > limits.maxHeaderLength) {
      health.increment(HEALTH_OVERSIZE_HEADERS);
      health.increment(HEALTH_BAGGAGE_DROPPED);
      health.warnOnce('oversize-baggage', `ignored a baggage header over ${limits.maxHeaderLength} characters`);
      return context;
    }
    if (hasMalformedMember(header)) {
      health.increment(HEALTH_MALFORMED_BAGGAGE);
      health.warnOnce('malformed-baggage', 'ignored malformed members of a baggage header');
    }
    let extracted: Context;
    try {
      extracted = this.inner.extract(context, { [BAGGAGE_HEADER]: header }, defaultTextMapGetter);
    } catch {
      health.increment(HEALTH_MALFORMED_BAGGAGE);
      return context;
    }
    return filterContextBaggage(extracted, limits, health);
  }

  fields(): string[] {
    return this.inner.fields();
  }
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

/** A member is `key=value[;properties]` with a token key (W3C baggage, section 3.3.1). */
function hasMalformedMember(header: string): boolean {
  for (const member of header.split(',')) {
    const trimmed = member.trim();
    if (trimmed.length === 0) continue;
    const pair = trimmed.split(';', 1)[0] ?? '';
    const eq = pair.indexOf('=');
    if (eq <= 0 || !TOKEN.test(pair.slice(0, eq).trim())) return true;
    try {
      decodeURIComponent(pair.slice(eq + 1).trim());
    } catch {
      return true;
    }
  }
  return false;
}
