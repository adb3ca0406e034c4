import assert from 'node:assert/strict';

// Expectations for W3C trace context and baggage headers, written from the specifications
// (https://www.w3.org/TR/trace-context/, https://www.w3.org/TR/baggage/) rather than from the
// package's parsers, for tests that check what the package makes of arbitrary headers.

/** HTTP's optional whitespace: the only whitespace Node strips from a header value, and the only one the W3C lists allow around members. */
export const owsTrim = (text: string): string => text.replace(/^[ \t]+|[ \t]+$/g, '');

export type TraceparentVerdict =
  | { valid: true; traceId: string; parentId: string; sampled: boolean }
  | { valid: false; counter: 'malformedTraceparent' | 'oversizeHeaders' };

/** W3C Trace Context 3.2 (version 00, and 3.2.4 for later versions); over 512 characters is the README's oversize bound. */
export function judgeTraceparent(value: string): TraceparentVerdict {
  if (value.length > 512) return { valid: false, counter: 'oversizeHeaders' };
  const malformed = { valid: false, counter: 'malformedTraceparent' } as const;
  const match = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(.*)$/s.exec(value);
  if (!match) return malformed;
  const [, version, traceId, parentId, flags, rest] = match as unknown as [string, string, string, string, string, string];
  if (version === 'ff') return malformed;
  // Version 00 has exactly these fields; a later version may add more, each after a dash.
  if (version === '00' ? rest !== '' : rest !== '' && !rest.startsWith('-')) return malformed;
  if (/^0+$/.test(traceId) || /^0+$/.test(parentId)) return malformed;
  return { valid: true, traceId, parentId, sampled: (parseInt(flags, 16) & 1) === 1 };
}

export interface TracestateVerdict {
  /** Valid members in order, first of each key. */
  members: string[];
  oversize: boolean;
  counter?: 'malformedTracestate' | 'oversizeHeaders';
}

// W3C Trace Context 3.3.1.3: simple-key / multi-tenant-key; value = 0*255(chr) nblk-chr.
const TRACESTATE_KEY = /^(?:[a-z][a-z0-9_\-*/]{0,255}|[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13})$/;
const TRACESTATE_VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

/** A tracestate header, as the server sees it, by W3C Trace Context 3.3: its valid members and what the README counts. */
export function judgeTracestate(value: string | undefined): TracestateVerdict {
  if (value === undefined) return { members: [], oversize: false };
  const members: string[] = [];
  const keys = new Set<string>();
  let problem = false;
  for (const raw of value.split(',')) {
    const member = owsTrim(raw);
    if (member === '') continue; // empty and whitespace-only members are allowed (3.3.1.1)
    const eq = member.indexOf('=');
    const key = member.slice(0, Math.max(eq, 0));
    if (eq < 0 || !TRACESTATE_KEY.test(key) || !TRACESTATE_VALUE.test(member.slice(eq + 1)) || keys.has(key)) {
      problem = true;
      continue;
    }
    keys.add(key);
    members.push(member);
  }
  if (members.length > 32) problem = true;
  const oversize = value.length > 512;
  const counter = oversize ? 'oversizeHeaders' : problem ? 'malformedTracestate' : undefined;
  return { members, oversize, ...(counter ? { counter } : {}) };
}

/** The tracestate a span carries or a call forwards: the valid members; over the limits, truncated as the spec suggests (3.3.1.5). */
export function assertTracestate(actual: string, verdict: TracestateVerdict, where: string): void {
  const kept = actual === '' ? [] : actual.split(',');
  if (!verdict.oversize) {
    assert.deepEqual(kept, verdict.members.slice(0, 32), `${where}: the valid members, at most 32`);
    return;
  }
  assert.ok(kept.length <= 32 && actual.length <= 512, `${where}: within the limits: ${actual}`);
  let from = 0;
  for (const member of kept) {
    const at = verdict.members.indexOf(member, from);
    assert.ok(at >= 0, `${where}: ${member} is one of the valid members, in their order`);
    from = at + 1;
  }
  const short = verdict.members.filter((member) => member.length <= 128);
  const keptShort = kept.filter((member) => member.length <= 128);
  assert.deepEqual(keptShort, short.slice(0, keptShort.length), `${where}: members are removed from the end`);
  // For length, members over 128 characters go first; a short one gone while a long one stays is the 32-member bound at work.
  if (keptShort.length < short.length && kept.some((member) => member.length > 128)) assert.equal(kept.length, 32, `${where}: members over 128 characters go first`);
}

export interface BaggageVerdict {
  oversize: boolean;
  malformed: boolean;
  /** Percent-encoded bytes that are not UTF-8: the spec decodes them to U+FFFD, a parser may as well reject the member. */
  undecodable: boolean;
  /** False when what the header yields depends on choices the spec leaves open (then only safety is asserted). */
  exact: boolean;
  /** Entries by key (a repeated key makes the verdict inexact: the spec leaves open which one counts). */
  entries: Map<string, string>;
}

/** Beyond this many members a parser may stop taking them (OpenTelemetry's stops here). */
const MAX_BAGGAGE_MEMBERS = 180;

// W3C Baggage 3.3.1: key = token; value = *baggage-octet, `%` only as a percent-encoding.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAGGAGE_VALUE = /^[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*$/;
const BARE_PERCENT = /%(?![0-9A-Fa-f]{2})/;

function isBaggageValue(raw: string): boolean {
  return BAGGAGE_VALUE.test(raw) && !BARE_PERCENT.test(raw);
}

/** property = key OWS "=" OWS value / key OWS */
function isBaggageProperty(raw: string): boolean {
  const property = owsTrim(raw);
  const eq = property.indexOf('=');
  if (eq < 0) return TOKEN.test(property);
  return TOKEN.test(owsTrim(property.slice(0, eq))) && isBaggageValue(owsTrim(property.slice(eq + 1)));
}

/**
 * What a baggage header, as the server sees it, holds by W3C Baggage (section 3.3.1); one over
 * `maxHeaderLength` characters (the README's bound, the spec's 8192 by default) is ignored whole.
 */
export function judgeBaggage(value: string | undefined, maxHeaderLength = 8192): BaggageVerdict {
  const entries = new Map<string, string>();
  if (value === undefined) return { oversize: false, malformed: false, undecodable: false, exact: true, entries };
  if (value.length > maxHeaderLength) return { oversize: true, malformed: false, undecodable: false, exact: true, entries };
  let malformed = false;
  let undecodable = false;
  let exact = true;
  let members = 0;
  for (const raw of value.split(',')) {
    const member = owsTrim(raw);
    if (member === '') continue;
    const [pair = '', ...properties] = member.split(';');
    const eq = pair.indexOf('=');
    const key = owsTrim(pair.slice(0, Math.max(eq, 0)));
    const encoded = owsTrim(pair.slice(eq + 1));
    if (eq < 0 || !TOKEN.test(key) || !isBaggageValue(encoded) || !properties.every(isBaggageProperty)) {
      malformed = true;
      continue;
    }
    let decoded: string;
    try {
      decoded = decodeURIComponent(encoded);
    } catch {
      undecodable = true;
      continue;
    }
    // OpenTelemetry's parser also percent-decodes keys; the spec does not.
    if (key.includes('%') || entries.has(key)) exact = false;
    entries.set(key, decoded);
    members += 1;
  }
  if (members > MAX_BAGGAGE_MEMBERS) exact = false;
  // Entries a lenient parser still finds in malformed members are not foreseeable.
  return { oversize: false, malformed, undecodable, exact: exact && !malformed && !undecodable, entries };
}
