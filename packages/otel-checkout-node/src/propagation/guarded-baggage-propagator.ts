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
/** baggage-octet (W3C baggage, section 3.3.1.3); `%` only as the start of a percent-encoded octet. */
const VALUE = /^(?:[\x21\x23\x24\x26-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]|%[0-9A-Fa-f]{2})*$/;
/** HTTP's optional whitespace, the only whitespace allowed around members, keys and values (not JavaScript's trim()). */
const OWS = /^[ \t]+|[ \t]+$/g;

/**
 * A member is `key OWS "=" OWS value *( OWS ";" OWS property )` with a token key, a value of
 * baggage-octets and properties `key OWS "=" OWS value` or `key` (W3C baggage, section 3.3.1).
 * A value whose percent-encoded bytes are not UTF-8 counts too: the propagator drops it.
 */
function hasMalformedMember(header: string): boolean {
  for (const member of header.split(',')) {
    const trimmed = member.replace(OWS, '');
    if (trimmed.length === 0) continue;
    const [pair = '', ...properties] = trimmed.split(';');
    const eq = pair.indexOf('=');
    if (eq < 0 || !isKeyValue(pair, eq)) return true;
    for (const property of properties) {
      const propertyEq = property.indexOf('=');
      if (propertyEq < 0 ? !TOKEN.test(property.replace(OWS, '')) : !isKeyValue(property, propertyEq)) return true;
    }
    try {
      decodeURIComponent(pair.slice(eq + 1).replace(OWS, ''));
    } catch {
      return true;
    }
  }
  return false;
}

function isKeyValue(text: string, eq: number): boolean {
  return TOKEN.test(text.slice(0, eq).replace(OWS, '')) && VALUE.test(text.slice(eq + 1).replace(OWS, ''));
}
