import { maskCardNumberValue, maskCardNumbers } from './card-numbers.js';
import { maskIbans } from './iban.js';
import {
  DEFAULT_EXEMPT_KEYS,
  DEFAULT_FLOW_TOKEN_PARAMETER,
  DEFAULT_SENSITIVE_KEYS,
  DEFAULT_URL_KEYS,
  FRAGMENT_KEYS,
  QUERY_KEYS,
  REDACTED,
} from './constants.js';
import type { RedactionCounter } from './counter.js';
import { InlinePairScrubber } from './inline-pairs.js';
import { SensitiveNameMatcher } from './sensitive-names.js';
import type { RedactableAttributes, RedactableSpan, RedactableValue, RedactionOptions } from './types.js';
import { scrubEmbeddedUrls, scrubFragment, scrubParameters, scrubUrl } from './url.js';

/** How the rules treat an attribute key; decided once per distinct key and cached. */
const KEY_TEXT = 0;
const KEY_EXEMPT = 1;
const KEY_SENSITIVE = 2;
const KEY_URL = 3;
const KEY_QUERY = 4;
const KEY_FRAGMENT = 5;
type KeyClass = typeof KEY_TEXT | typeof KEY_EXEMPT | typeof KEY_SENSITIVE | typeof KEY_URL | typeof KEY_QUERY | typeof KEY_FRAGMENT;

/** Values longer than this (stack traces, bodies) are scanned every time rather than remembered. */
const MAX_CACHED_VALUE_LENGTH = 256;
/** Clean values remembered; the set starts over when full. */
const MAX_CACHED_VALUES = 1024;

/** The fewest characters a card number can take. */
const MIN_CARD_DIGITS = 13;

/** Bounds the key cache: attribute keys are few in practice, but a caller could make up keys per request. */
const MAX_CACHED_KEYS = 4096;

/**
 * The redaction rules compiled for one configuration. Build it once (`createRedactor`) and
 * reuse it: every pattern and key list is prepared here, so redacting a span that holds
 * nothing sensitive costs a few string scans.
 *
 * Nothing here throws: a rule that fails on a value replaces the value with `[REDACTED]`
 * and counts it, so an unexpected input is never exported unredacted.
 */
export class Redactor {
  /** False when built with `enabled: false`: every method then leaves data untouched and returns 0. */
  readonly enabled: boolean;
  private readonly cardNumbers: boolean;
  private readonly bankAccounts: boolean;
  private readonly exemptKeys: ReadonlySet<string>;
  private readonly urlKeys: ReadonlySet<string>;
  private readonly queryKeys: ReadonlySet<string>;
  private readonly fragmentKeys: ReadonlySet<string>;
  private readonly sensitiveKeys: SensitiveNameMatcher;
  private readonly sensitiveParameters: SensitiveNameMatcher;
  private readonly inlinePairs: InlinePairScrubber | undefined;
  private readonly keyClasses = new Map<string, KeyClass>();
  /** Values of ordinary (text) attributes known to need no redaction. */
  private readonly cleanValues = new Set<string>();

  constructor(options: RedactionOptions = {}) {
    this.enabled = options.enabled !== false;
    this.cardNumbers = options.cardNumbers !== false;
    this.bankAccounts = options.bankAccounts !== false;
    const flowTokenParameter =
      typeof options.flowTokenParameter === 'string' && options.flowTokenParameter.length > 0
        ? options.flowTokenParameter
        : DEFAULT_FLOW_TOKEN_PARAMETER;
    const keyNames = [...DEFAULT_SENSITIVE_KEYS, ...strings(options.sensitiveKeys), flowTokenParameter];
    const parameterNames = [...keyNames, ...strings(options.sensitiveQueryParameters)];
    this.sensitiveKeys = new SensitiveNameMatcher(keyNames);
    this.sensitiveParameters = new SensitiveNameMatcher(parameterNames);
    this.inlinePairs = options.inlinePairs === false ? undefined : new InlinePairScrubber(parameterNames);
    this.exemptKeys = new Set([...DEFAULT_EXEMPT_KEYS, ...strings(options.exemptKeys)]);
    this.urlKeys = new Set([...DEFAULT_URL_KEYS, ...strings(options.urlKeys)]);
    this.queryKeys = new Set(QUERY_KEYS);
    this.fragmentKeys = new Set(FRAGMENT_KEYS);
  }

  /**
   * Redacts a span in place: name, status message, attributes, event names and attributes
   * (`exception.message`, `exception.stacktrace` included), link attributes. Returns the
   * number of values changed.
   */
  redactSpan(span: RedactableSpan): number {
    if (!this.enabled) return 0;
    const counter: RedactionCounter = { count: 0 };
    try {
      this.redactSpanInto(span, counter);
    } catch {
      // Only a span object that is not span-shaped gets here (every value is guarded below);
      // what was redacted so far stays redacted.
    }
    return counter.count;
  }

  /** Redacts attributes in place; returns the number of values changed. */
  redactAttributes(attributes: RedactableAttributes): number {
    if (!this.enabled) return 0;
    const counter: RedactionCounter = { count: 0 };
    this.redactAttributesInto(attributes, counter);
    return counter.count;
  }

  /** The redacted form of one attribute value stored under `key` (the value itself when nothing applies). */
  redactValue(key: string, value: RedactableValue): RedactableValue {
    if (!this.enabled) return value;
    return this.guardedValue(key, value, { count: 0 });
  }

  /** Free text (a span name, a message) with card numbers, sensitive pairs and URL secrets removed. */
  redactText(text: string): string {
    if (!this.enabled) return text;
    return this.guardedText(text, { count: 0 });
  }

  private redactSpanInto(span: RedactableSpan, counter: RedactionCounter): void {
    span.name = this.guardedText(span.name, counter);
    const status = span.status;
    if (isObject(status) && typeof status.message === 'string' && status.message.length > 0) {
      const message = this.guardedText(status.message, counter);
      if (message !== status.message) span.status = { ...status, message };
    }
    if (isObject(span.attributes)) this.redactAttributesInto(span.attributes, counter);
    const events = span.events;
    if (Array.isArray(events)) {
      for (const event of events as ReadonlyArray<unknown>) {
        if (!isObject(event)) continue;
        const timed = event as { name: string; attributes?: RedactableAttributes };
        timed.name = this.guardedText(timed.name, counter);
        if (isObject(timed.attributes)) this.redactAttributesInto(timed.attributes, counter);
      }
    }
    const links = span.links;
    if (Array.isArray(links)) {
      for (const link of links as ReadonlyArray<unknown>) {
        if (!isObject(link)) continue;
        const attributes = (link as { attributes?: RedactableAttributes }).attributes;
        if (isObject(attributes)) this.redactAttributesInto(attributes, counter);
      }
    }
  }

  private redactAttributesInto(attributes: RedactableAttributes, counter: RedactionCounter): void {
    for (const key of Object.keys(attributes)) {
      try {
        const value = attributes[key];
        // Booleans cannot hide anything (and outside a denylisted key neither can they there).
        if (value === undefined || value === null || typeof value === 'boolean') continue;
        const redacted = this.guardedValue(key, value, counter);
        if (redacted !== value) attributes[key] = redacted;
      } catch {
        // The attribute cannot even be read or written (a getter, a frozen object): try to
        // overwrite it; if that fails too there is nothing more this pass can do.
        counter.count++;
        try {
          attributes[key] = REDACTED;
        } catch {
          // ignored: the caller counts this span's redactions and goes on
        }
      }
    }
  }

  private guardedValue(key: string, value: RedactableValue, counter: RedactionCounter): RedactableValue {
    try {
      return this.valueFor(this.classify(key), value, counter);
    } catch {
      counter.count++;
      return REDACTED;
    }
  }

  private guardedText(text: unknown, counter: RedactionCounter): string {
    if (typeof text !== 'string') return text as string;
    try {
      return this.text(text, KEY_TEXT, counter);
    } catch {
      counter.count++;
      return REDACTED;
    }
  }

  private valueFor(keyClass: KeyClass, value: RedactableValue, counter: RedactionCounter): RedactableValue {
    if (value === undefined || value === null || keyClass === KEY_EXEMPT) return value;
    if (keyClass === KEY_SENSITIVE) {
      if (Array.isArray(value)) {
        const list = value as ReadonlyArray<unknown>;
        if (list.every((v) => v === REDACTED)) return list;
        counter.count++;
        return list.map(() => REDACTED);
      }
      if (value === REDACTED || typeof value === 'boolean') return value;
      counter.count++;
      return REDACTED;
    }
    if (typeof value === 'string') return this.cachedText(value, keyClass, counter);
    if (typeof value === 'number') return this.cardNumbers ? (maskCardNumberValue(value, counter) ?? value) : value;
    if (Array.isArray(value)) return this.array(value as ReadonlyArray<unknown>, keyClass, counter);
    // Not a valid attribute value (an object, a function): nobody can tell what an exporter
    // would print for it, so it does not leave.
    counter.count++;
    return REDACTED;
  }

  private array(list: ReadonlyArray<unknown>, keyClass: KeyClass, counter: RedactionCounter): RedactableValue {
    let out: unknown[] | undefined;
    let maskedNumber = false;
    for (let i = 0; i < list.length; i++) {
      const item = list[i];
      let redacted = item;
      if (typeof item === 'string') {
        redacted = this.cachedText(item, keyClass, counter);
      } else if (typeof item === 'number') {
        const masked = this.cardNumbers ? maskCardNumberValue(item, counter) : undefined;
        if (masked !== undefined) {
          redacted = masked;
          maskedNumber = true;
        }
      } else if (item !== null && item !== undefined && typeof item !== 'boolean') {
        counter.count++;
        redacted = REDACTED;
        maskedNumber = true;
      }
      if (redacted !== item) {
        out ??= list.slice();
        out[i] = redacted;
      }
    }
    if (out === undefined) return list as RedactableValue;
    // OpenTelemetry arrays are homogeneous: once one number became a masked string, all become strings.
    return (maskedNumber ? out.map((v) => (v === null || v === undefined || typeof v === 'string' ? v : String(v as number | boolean))) : out) as RedactableValue;
  }

  /**
   * The same values come back on every request (user agents, routes, URLs without a query):
   * remembering the ones that needed nothing skips the scans next time. Only clean values are
   * kept, so the cache never holds anything sensitive.
   */
  private cachedText(value: string, keyClass: KeyClass, counter: RedactionCounter): string {
    // URL attributes change with every query string; remembering them would only churn.
    if (keyClass !== KEY_TEXT || value.length > MAX_CACHED_VALUE_LENGTH) return this.text(value, keyClass, counter);
    const clean = this.cleanValues;
    if (clean.has(value)) return value;
    const before = counter.count;
    const out = this.text(value, keyClass, counter);
    if (out === value && counter.count === before) {
      if (clean.size >= MAX_CACHED_VALUES) clean.clear();
      clean.add(value);
    }
    return out;
  }

  private text(value: string, keyClass: KeyClass, counter: RedactionCounter): string {
    let out = value;
    switch (keyClass) {
      case KEY_URL:
        out = scrubUrl(out, this.sensitiveParameters, counter);
        break;
      case KEY_QUERY:
        out = scrubParameters(out, this.sensitiveParameters, counter);
        break;
      case KEY_FRAGMENT:
        out = scrubFragment(out, this.sensitiveParameters, counter);
        break;
      default:
        // Most values are short words ('create', 'POST', 'CNY'): shorter than any card number
        // and without the ':' or '=' that every URL and sensitive pair needs.
        if (out.length < MIN_CARD_DIGITS && out.indexOf(':') === -1 && out.indexOf('=') === -1) return out;
        out = scrubEmbeddedUrls(out, this.sensitiveParameters, counter);
        // In URL attributes the query was scrubbed above, parameter by parameter.
        if (this.inlinePairs !== undefined) out = this.inlinePairs.scrub(out, counter);
    }
    // IBANs first: a printed one holds groups of digits that could pass for part of a card number.
    if (this.bankAccounts) out = maskIbans(out, counter);
    if (this.cardNumbers) out = maskCardNumbers(out, counter);
    return out;
  }

  private classify(key: string): KeyClass {
    let keyClass = this.keyClasses.get(key);
    if (keyClass !== undefined) return keyClass;
    if (this.exemptKeys.has(key)) keyClass = KEY_EXEMPT;
    else if (this.sensitiveKeys.matches(key)) keyClass = KEY_SENSITIVE;
    else if (this.urlKeys.has(key)) keyClass = KEY_URL;
    else if (this.queryKeys.has(key)) keyClass = KEY_QUERY;
    else if (this.fragmentKeys.has(key)) keyClass = KEY_FRAGMENT;
    else keyClass = KEY_TEXT;
    if (this.keyClasses.size >= MAX_CACHED_KEYS) this.keyClasses.clear();
    this.keyClasses.set(key, keyClass);
    return keyClass;
  }
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

function strings(list: readonly string[] | undefined): string[] {
  return Array.isArray(list) ? list.filter((s): s is string => typeof s === 'string' && s.length > 0) : [];
}

/** Compiles the redaction rules for `options` (all rules on by default). */
export function createRedactor(options?: RedactionOptions): Redactor {
  return new Redactor(options);
}

let defaultRedactor: Redactor | undefined;

/**
 * Redacts a span in place with the default rules, or with `redactor` when given (build one
 * with `createRedactor` to change the rules). Returns the number of values changed.
 */
export function redactSpanData(span: RedactableSpan, redactor?: Redactor): number {
  return (redactor ?? (defaultRedactor ??= new Redactor())).redactSpan(span);
}
