import { maskCardNumbers } from './card-numbers.js';
import { maskIbans } from './iban.js';
import { REDACTED, URL_REDACTED } from './constants.js';
import type { RedactionCounter } from './counter.js';
import type { SensitiveNames } from './sensitive-names.js';

/**
 * URL scrubbing written by hand: this package has no `URL` class (no DOM, no Node), and a
 * hand-written pass keeps everything it does not change byte for byte, so a malformed URL is
 * scrubbed as far as it can be read instead of throwing or being re-serialised.
 */

/** Decodes `%xx` and `+`; returns the input when it is not valid percent-encoding. */
function decodeComponent(text: string): string {
  if (text.indexOf('%') === -1 && text.indexOf('+') === -1) return text;
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/**
 * How deep a URL carried in a parameter of a URL is scrubbed (a bank's `return_url=` holding the
 * shop's return URL with its flow token, itself holding a `next=`): enough for real redirect
 * chains, and a bound on the work an adversarial value can cause.
 */
const MAX_NESTED_DEPTH = 3;

/**
 * Scrubs `name=value` pairs separated by `&` (or `;`): sensitive names get the value
 * `REDACTED`; other values that hide a card number behind percent-encoding
 * (`4111%201111%20...`) get it masked, and a value that carries a URL or a query of its own
 * (`return_url=https%3A%2F%2Fshop%2Fr%3Fotc_flow%3D...`) is scrubbed in turn and encoded again.
 * Plain card numbers are left to the caller's card pass.
 */
export function scrubParameters(params: string, sensitive: SensitiveNames, counter: RedactionCounter, depth = 0): string {
  if (params.indexOf('=') === -1) return scrubEncodedOnceMore(params, sensitive, counter, depth);
  let out = '';
  let copiedUpTo = 0;
  for (let start = 0; start <= params.length; ) {
    let end = start;
    while (end < params.length && params.charCodeAt(end) !== 38 && params.charCodeAt(end) !== 59) end++; // & ;
    const eq = params.indexOf('=', start);
    if (eq > start && eq < end - 1) {
      const value = params.slice(eq + 1, end);
      let replacement: string | undefined;
      // Either mark of an earlier pass stays: `[REDACTED]` comes from free text in which a
      // space had cut the URL short, so its pairs were scrubbed as text.
      if (value !== URL_REDACTED && value !== REDACTED && sensitive(decodeComponent(params.slice(start, eq)).trim())) {
        replacement = URL_REDACTED;
        counter.count++;
      } else if (value.indexOf('%') !== -1 || value.indexOf('+') !== -1) {
        const before = counter.count;
        const scrubbed = scrubNested(maskCardNumbers(maskIbans(decodeComponent(value), counter), counter), sensitive, counter, depth);
        if (counter.count !== before) replacement = encodeURIComponent(scrubbed);
      } else if (value.indexOf('?') !== -1) {
        // An unencoded URL as a value (`next=https://shop/r?otc_flow=...`): its own query is part of the value.
        const before = counter.count;
        const scrubbed = scrubNested(value, sensitive, counter, depth);
        if (counter.count !== before) replacement = scrubbed;
      }
      if (replacement !== undefined) {
        out += params.slice(copiedUpTo, eq + 1) + replacement;
        copiedUpTo = end;
      }
    }
    start = end + 1;
  }
  return copiedUpTo === 0 ? params : out + params.slice(copiedUpTo);
}

/** A decoded parameter value that is a URL or a query of its own, scrubbed one level deeper. */
function scrubNested(value: string, sensitive: SensitiveNames, counter: RedactionCounter, depth: number): string {
  if (depth >= MAX_NESTED_DEPTH) return value;
  if (value.indexOf('?') !== -1 || value.indexOf('#') !== -1) return scrubUrl(value, sensitive, counter, depth + 1);
  // Its parameters, or (with no `=` of its own) what it hides encoded once more.
  return scrubParameters(value, sensitive, counter, depth + 1);
}

/**
 * Text without an `=` of its own may hide escaped ones: a URL or a query encoded more often
 * than its place needs (a return URL encoded twice in a chain of redirects,
 * `return_url=https%253A%252F%252Fshop%252Fr%253Fotc_flow%253D...`, or `otc_flow%3D...` in a
 * query). It is decoded until an `=` shows (at most three extra times, which do not count as
 * URL nesting levels), scrubbed, and encoded as often again when anything changed.
 */
function scrubEncodedOnceMore(text: string, sensitive: SensitiveNames, counter: RedactionCounter, depth: number, extra = 0): string {
  const decoded = decodeComponent(text);
  if (decoded === text || extra >= 3) return text;
  const before = counter.count;
  const scrubbed =
    decoded.indexOf('=') === -1 ? scrubEncodedOnceMore(decoded, sensitive, counter, depth, extra + 1) : scrubNested(decoded, sensitive, counter, depth);
  return counter.count === before ? text : encodeURIComponent(scrubbed);
}

/** A fragment is scrubbed from its own `?` on (`#/return?otc_flow=...`), or whole when it is `a=1&b=2`. */
export function scrubFragment(fragment: string, sensitive: SensitiveNames, counter: RedactionCounter, depth = 0): string {
  const q = fragment.indexOf('?');
  if (q !== -1) return fragment.slice(0, q + 1) + scrubParameters(fragment.slice(q + 1), sensitive, counter, depth);
  return scrubParameters(fragment, sensitive, counter, depth);
}

/**
 * Scrubs an absolute URL (`https://user:pw@host/p?q#f`), a path with a query (`/p?q#f`) or
 * anything in between: credentials in the authority become `REDACTED:REDACTED` (as the
 * OpenTelemetry conventions ask for `url.full`), the query and fragment go through
 * `scrubParameters`.
 */
export function scrubUrl(url: string, sensitive: SensitiveNames, counter: RedactionCounter, depth = 0): string {
  if (url.indexOf('?') === -1 && url.indexOf('#') === -1 && url.indexOf('@') === -1) return url;
  let head = url;
  let fragment: string | undefined;
  const hash = url.indexOf('#');
  if (hash !== -1) {
    head = url.slice(0, hash);
    fragment = url.slice(hash + 1);
  }
  let query: string | undefined;
  const q = head.indexOf('?');
  if (q !== -1) {
    query = head.slice(q + 1);
    head = head.slice(0, q);
  }
  const schemeEnd = head.indexOf('://');
  if (schemeEnd !== -1) {
    const authorityStart = schemeEnd + 3;
    const slash = head.indexOf('/', authorityStart);
    const authorityEnd = slash === -1 ? head.length : slash;
    const at = head.lastIndexOf('@', authorityEnd - 1);
    if (at >= authorityStart) {
      const userinfo = head.slice(authorityStart, at);
      if (userinfo !== `${URL_REDACTED}:${URL_REDACTED}`) {
        head = `${head.slice(0, authorityStart)}${URL_REDACTED}:${URL_REDACTED}${head.slice(at)}`;
        counter.count++;
      }
    }
  }
  let out = head;
  if (query !== undefined) out += `?${scrubParameters(query, sensitive, counter, depth)}`;
  if (fragment !== undefined) out += `#${scrubFragment(fragment, sensitive, counter, depth)}`;
  return out;
}

// Any scheme, not only http(s): a driver's error message often quotes its connection URL
// (`postgres://app:pw@db/shop`, `redis://:pw@cache:6379`), password included.
const EMBEDDED_URL = /\b[a-z][\w+.-]*:\/\/[^\s"'<>`]+/gi;

/** Scrubs every URL inside free text (an exception message, a redirect URL in a log line). */
export function scrubEmbeddedUrls(text: string, sensitive: SensitiveNames, counter: RedactionCounter): string {
  if (text.indexOf('://') === -1) return text;
  const before = counter.count;
  const out = text.replace(EMBEDDED_URL, (url) => scrubUrl(url, sensitive, counter));
  return counter.count === before ? text : out;
}
