import { defaultTextMapGetter, propagation } from '@opentelemetry/api';
import type { Context, TextMapGetter, TextMapPropagator, TextMapSetter } from '@opentelemetry/api';
import { W3CBaggagePropagator } from '@opentelemetry/core';
import type { HealthCounters } from '../health.js';
import { trimOptionalWhitespace } from './optional-whitespace.js';
import { HEALTH_BAGGAGE_DROPPED, HEALTH_MALFORMED_BAGGAGE, HEALTH_OVERSIZE_HEADERS } from '../health-names.js';
import { runtime } from '../runtime.js';
import { countDroppedBaggage, filterContextBaggage } from './baggage-filter.js';
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
    const scan = scanMembers(header);
    if (scan.malformed) {
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
    // The parser underneath leaves out well-formed members beyond its own limits (one over
    // 4096 characters, those after the 180th) and ones with an empty value, without a word:
    // they are dropped entries all the same.
    countDroppedBaggage(health, skippedMembers(scan, extracted));
    return filterContextBaggage(extracted, limits, health);
  }

  fields(): string[] {
    return this.inner.fields();
  }
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** baggage-octet (W3C baggage, section 3.3.1.3); `%` only as the start of a percent-encoded octet. */
const VALUE = /^(?:[\x21\x23\x24\x26-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]|%[0-9A-Fa-f]{2})*$/;

interface MemberScan {
  /** A member is not `key OWS "=" OWS value *( OWS ";" OWS property )` (W3C baggage, section 3.3.1). */
  malformed: boolean;
  /** The keys of the well-formed members, percent-decoded as the parser underneath reads them; undefined for one it cannot decode (it leaves that member out). */
  keys: Array<string | undefined>;
}

/**
 * Checks each member: a token key, a value of baggage-octets and properties
 * `key OWS "=" OWS value` or `key`. A value whose percent-encoded bytes are not UTF-8 counts
 * as malformed too: the propagator drops it.
 */
function scanMembers(header: string): MemberScan {
  const scan: MemberScan = { malformed: false, keys: [] };
  for (const member of header.split(',')) {
    const trimmed = trimOptionalWhitespace(member);
    if (trimmed.length === 0) continue;
    const semicolon = trimmed.indexOf(';');
    const pair = semicolon < 0 ? trimmed : trimmed.slice(0, semicolon);
    const eq = pair.indexOf('=');
    const key = trimOptionalWhitespace(pair.slice(0, Math.max(eq, 0)));
    const value = trimOptionalWhitespace(pair.slice(eq + 1));
    if (eq < 0 || !TOKEN.test(key) || !VALUE.test(value) || (semicolon >= 0 && !trimmed.slice(semicolon + 1).split(';').every(isProperty)) || decoded(value) === undefined) {
      scan.malformed = true;
      continue;
    }
    scan.keys.push(decoded(key));
  }
  return scan;
}

/** Percent-decoded; undefined when the encoded bytes are not UTF-8. */
function decoded(text: string): string | undefined {
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return undefined;
  }
}

function isProperty(property: string): boolean {
  const eq = property.indexOf('=');
  if (eq < 0) return TOKEN.test(trimOptionalWhitespace(property));
  return TOKEN.test(trimOptionalWhitespace(property.slice(0, eq))) && VALUE.test(trimOptionalWhitespace(property.slice(eq + 1)));
}

/** Well-formed members of the header that did not become an entry of `extracted`'s baggage. */
function skippedMembers(scan: MemberScan, extracted: Context): number {
  const baggage = propagation.getBaggage(extracted);
  let skipped = 0;
  for (const key of scan.keys) if (key === undefined || baggage?.getEntry(key) === undefined) skipped += 1;
  return skipped;
}
