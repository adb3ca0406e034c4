import { maskCardNumberValue, maskCardNumbers } from './card-numbers.js';
import { maskIbans } from './iban.js';
import {
  DEFAULT_EXEMPT_KEYS,
  DEFAULT_FLOW_TOKEN_PARAMETER,
  DEFAULT_SENSITIVE_KEYS,
  DEFAULT_URL_KEYS,
  FRAGMENT_KEY,
  QUERY_KEY,
  REDACTED,
} from './constants.js';
import type { RedactionCounter } from './counter.js';
import { inlinePairScrubber } from './inline-pairs.js';
import { sensitiveNames } from './sensitive-names.js';
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

/** The rules of one configuration, as the `Redactor` methods run them; each adds what it changed to `counter`. */
interface Rules {
  span(span: RedactableSpan, counter: RedactionCounter): void;
  attributes(attributes: RedactableAttributes, counter: RedactionCounter): void;
  value(key: string, value: RedactableValue, counter: RedactionCounter): RedactableValue;
  text(text: unknown, counter: RedactionCounter): string;
}

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
  private readonly rules: Rules;

  constructor(options: RedactionOptions = {}) {
    this.enabled = options.enabled !== false;
    this.rules = compile(options);
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
      this.rules.span(span, counter);
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
    this.rules.attributes(attributes, counter);
    return counter.count;
  }

  /** The redacted form of one attribute value stored under `key` (the value itself when nothing applies). */
  redactValue(key: string, value: RedactableValue): RedactableValue {
    if (!this.enabled) return value;
    return this.rules.value(key, value, { count: 0 });
  }

  /** Free text (a span name, a message) with card numbers, sensitive pairs and URL secrets removed. */
  redactText(text: string): string {
    if (!this.enabled) return text;
    return this.rules.text(text, { count: 0 });
  }
}

/**
 * Prepares the rules of `options` (`enabled` aside, which the `Redactor` checks). A closure
 * rather than class members, so its state and helpers minify on every checkout page.
 */
function compile(options: RedactionOptions): Rules {
  const cardNumbers = options.cardNumbers !== false;
  const bankAccounts = options.bankAccounts !== false;
  const flowTokenParameter =
    typeof options.flowTokenParameter === 'string' && options.flowTokenParameter.length > 0
      ? options.flowTokenParameter
      : DEFAULT_FLOW_TOKEN_PARAMETER;
  const keyNames = [...DEFAULT_SENSITIVE_KEYS, ...strings(options.sensitiveKeys), flowTokenParameter];
  const parameterNames = [...keyNames, ...strings(options.sensitiveQueryParameters)];
  const sensitiveKey = sensitiveNames(keyNames);
  /** Names of pairs and XML elements in free text. */
  const sensitiveParameter = sensitiveNames(parameterNames);
  // `key` carries API keys in URLs (`?key=AIza…`, Google's APIs), but as an attribute key or a
  // name in prose it names ordinary things (`messaging.kafka.message.key`, `{"key": "color"}`,
  // `missing key: amount`), which must stay readable: it is sensitive as a query parameter only.
  const sensitiveQuery = sensitiveNames([...parameterNames, 'key']);
  const inlinePairs = options.inlinePairs === false ? undefined : inlinePairScrubber(sensitiveParameter, sensitiveQuery);
  const exemptKeys = new Set([...DEFAULT_EXEMPT_KEYS, ...strings(options.exemptKeys)]);
  const urlKeys = new Set([...DEFAULT_URL_KEYS, ...strings(options.urlKeys)]);
  const keyClasses = new Map<string, KeyClass>();
  /** Values of ordinary (text) attributes known to need no redaction. */
  const cleanValues = new Set<string>();

  const classify = (key: string): KeyClass => {
    let keyClass = keyClasses.get(key);
    if (keyClass !== undefined) return keyClass;
    if (exemptKeys.has(key)) keyClass = KEY_EXEMPT;
    else if (sensitiveKey(key)) keyClass = KEY_SENSITIVE;
    else if (urlKeys.has(key)) keyClass = KEY_URL;
    else if (key === QUERY_KEY) keyClass = KEY_QUERY;
    else if (key === FRAGMENT_KEY) keyClass = KEY_FRAGMENT;
    else keyClass = KEY_TEXT;
    if (keyClasses.size >= MAX_CACHED_KEYS) keyClasses.clear();
    keyClasses.set(key, keyClass);
    return keyClass;
  };

  const text = (value: string, keyClass: KeyClass, counter: RedactionCounter): string => {
    let out = value;
    switch (keyClass) {
      case KEY_URL:
        out = scrubUrl(out, sensitiveQuery, counter);
        break;
      case KEY_QUERY:
        out = scrubParameters(out, sensitiveQuery, counter);
        break;
      case KEY_FRAGMENT:
        out = scrubFragment(out, sensitiveQuery, counter);
        break;
      default:
        // Most values are short words ('create', 'POST', 'CNY'): shorter than any card number
        // and without the ':' or '=' that every URL and sensitive pair needs.
        if (out.length < MIN_CARD_DIGITS && out.indexOf(':') === -1 && out.indexOf('=') === -1) return out;
        out = scrubEmbeddedUrls(out, sensitiveQuery, counter);
        // In URL attributes the query was scrubbed above, parameter by parameter.
        if (inlinePairs !== undefined) out = inlinePairs(out, counter);
    }
    // IBANs first: a printed one holds groups of digits that could pass for part of a card number.
    if (bankAccounts) out = maskIbans(out, counter);
    if (cardNumbers) out = maskCardNumbers(out, counter);
    return out;
  };

  /**
   * The same values come back on every request (user agents, routes, URLs without a query):
   * remembering the ones that needed nothing skips the scans next time. Only clean values are
   * kept, so the cache never holds anything sensitive.
   */
  const cachedText = (value: string, keyClass: KeyClass, counter: RedactionCounter): string => {
    // URL attributes change with every query string; remembering them would only churn.
    if (keyClass !== KEY_TEXT || value.length > MAX_CACHED_VALUE_LENGTH) return text(value, keyClass, counter);
    if (cleanValues.has(value)) return value;
    const before = counter.count;
    const out = text(value, keyClass, counter);
    if (out === value && counter.count === before) {
      if (cleanValues.size >= MAX_CACHED_VALUES) cleanValues.clear();
      cleanValues.add(value);
    }
    return out;
  };

  /**
   * One value that is not an array, under a key that is neither exempt nor sensitive: text is
   * scrubbed, a number masked when it is a card, a boolean kept. Anything else is not a valid
   * attribute value (an object, a function, an array inside an array): nobody can tell what an
   * exporter would print for it, so it does not leave.
   */
  const scalar = (value: unknown, keyClass: KeyClass, counter: RedactionCounter): unknown => {
    if (typeof value === 'string') return cachedText(value, keyClass, counter);
    if (typeof value === 'number') return cardNumbers ? (maskCardNumberValue(value, counter) ?? value) : value;
    if (typeof value === 'boolean') return value;
    counter.count++;
    return REDACTED;
  };

  const array = (list: ReadonlyArray<unknown>, keyClass: KeyClass, counter: RedactionCounter): RedactableValue => {
    let out: unknown[] | undefined;
    /** A number became a masked string, or another value `[REDACTED]`. */
    let maskedNumber = false;
    for (let i = 0; i < list.length; i++) {
      const item = list[i];
      const redacted = item === null || item === undefined ? item : scalar(item, keyClass, counter);
      if (redacted !== item) {
        out ??= list.slice();
        out[i] = redacted;
        if (typeof item !== 'string') maskedNumber = true;
      }
    }
    if (out === undefined) return list as RedactableValue;
    // OpenTelemetry arrays are homogeneous: once one number became a masked string, all become strings.
    return (maskedNumber ? out.map((v) => (v === null || v === undefined || typeof v === 'string' ? v : String(v as number | boolean))) : out) as RedactableValue;
  };

  const valueFor = (keyClass: KeyClass, value: RedactableValue, counter: RedactionCounter): RedactableValue => {
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
    if (Array.isArray(value)) return array(value as ReadonlyArray<unknown>, keyClass, counter);
    return scalar(value, keyClass, counter) as RedactableValue;
  };

  const guardedValue = (key: string, value: RedactableValue, counter: RedactionCounter): RedactableValue => {
    try {
      return valueFor(classify(key), value, counter);
    } catch {
      counter.count++;
      return REDACTED;
    }
  };

  const guardedText = (value: unknown, counter: RedactionCounter): string => {
    if (typeof value !== 'string') return value as string;
    try {
      return text(value, KEY_TEXT, counter);
    } catch {
      counter.count++;
      return REDACTED;
    }
  };

  const attributes = (attributes: RedactableAttributes, counter: RedactionCounter): void => {
    for (const key of Object.keys(attributes)) {
      try {
        const value = attributes[key];
        // Booleans cannot hide anything (and outside a denylisted key neither can they there).
        if (value === undefined || value === null || typeof value === 'boolean') continue;
        const redacted = guardedValue(key, value, counter);
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
  };

  /** The attributes of each event or link in `list`, and each event's name when `named`. */
  const each = (list: unknown, named: boolean, counter: RedactionCounter): void => {
    if (!Array.isArray(list)) return;
    for (const item of list as ReadonlyArray<unknown>) {
      if (!isObject(item)) continue;
      const timed = item as { name: string; attributes?: RedactableAttributes };
      if (named) timed.name = guardedText(timed.name, counter);
      if (isObject(timed.attributes)) attributes(timed.attributes, counter);
    }
  };

  return {
    span(span, counter) {
      span.name = guardedText(span.name, counter);
      const status = span.status;
      if (isObject(status) && typeof status.message === 'string' && status.message.length > 0) {
        const message = guardedText(status.message, counter);
        if (message !== status.message) span.status = { ...status, message };
      }
      if (isObject(span.attributes)) attributes(span.attributes, counter);
      each(span.events, true, counter);
      each(span.links, false, counter);
    },
    attributes,
    value: guardedValue,
    text: guardedText,
  };
}

function isObject(value: unknown): value is object {
  return typeof value === 'object' && value !== null;
}

/** The names of a list option; one name given alone (`sensitiveKeys: 'x-api-key'`) is a list of one, not none. */
function strings(list: readonly string[] | string | undefined): string[] {
  return [list].flat().filter((s): s is string => typeof s === 'string' && s.length > 0);
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
