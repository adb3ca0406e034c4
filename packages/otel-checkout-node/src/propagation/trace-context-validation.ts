/**
 * Validation of W3C Trace Context headers (https://www.w3.org/TR/trace-context/), used to
 * decide what to trust and to count what was malformed. Pure functions; never throw.
 */
import { trimOptionalWhitespace } from './optional-whitespace.js';

/** Why a `traceparent` was not used. */
export type TraceparentProblem =
  | 'oversize'
  | 'format'
  | 'version_ff'
  | 'invalid_trace_id'
  | 'invalid_parent_id'
  | 'invalid_flags';

export interface ParsedTraceparent {
  version: string;
  traceId: string;
  parentId: string;
  flags: number;
}

export type TraceparentResult = { ok: true; value: ParsedTraceparent } | { ok: false; problem: TraceparentProblem };

/** Longest `traceparent` looked at; future versions may append fields, but not kilobytes. */
const MAX_TRACEPARENT_LENGTH = 512;
/** The spec's limits for `tracestate`. */
export const MAX_TRACESTATE_MEMBERS = 32;
export const MAX_TRACESTATE_LENGTH = 512;

const HEX2 = /^[0-9a-f]{2}$/;
const HEX32 = /^[0-9a-f]{32}$/;
const HEX16 = /^[0-9a-f]{16}$/;
const ALL_ZERO = /^0+$/;

/**
 * Parses a `traceparent` header as the spec's "version-format" section requires:
 * version 00 is exactly `00-<32 hex>-<16 hex>-<2 hex>`; a higher version (but not `ff`) is
 * parsed by the version-00 layout and may carry more fields after a further `-`; ids must not
 * be all zeros; only lowercase hex is valid.
 */
export function parseTraceparent(header: string): TraceparentResult {
  if (header.length > MAX_TRACEPARENT_LENGTH) return { ok: false, problem: 'oversize' };
  const value = trimOptionalWhitespace(header);
  const version = value.slice(0, 2);
  if (!HEX2.test(version) || value[2] !== '-') return { ok: false, problem: 'format' };
  if (version === 'ff') return { ok: false, problem: 'version_ff' };
  if (version === '00' ? value.length !== 55 : value.length < 55 || (value.length > 55 && value[55] !== '-')) {
    return { ok: false, problem: 'format' };
  }
  if (value[35] !== '-' || value[52] !== '-') return { ok: false, problem: 'format' };
  const traceId = value.slice(3, 35);
  const parentId = value.slice(36, 52);
  const flags = value.slice(53, 55);
  if (!HEX32.test(traceId) || ALL_ZERO.test(traceId)) return { ok: false, problem: 'invalid_trace_id' };
  if (!HEX16.test(parentId) || ALL_ZERO.test(parentId)) return { ok: false, problem: 'invalid_parent_id' };
  if (!HEX2.test(flags)) return { ok: false, problem: 'invalid_flags' };
  return { ok: true, value: { version, traceId, parentId, flags: parseInt(flags, 16) } };
}

/** Why a `tracestate` header (or part of it) was not kept. */
export type TracestateProblem = 'oversize' | 'too_many_members' | 'invalid_member' | 'duplicate_key' | 'sensitive_member';

export interface TracestateResult {
  /** Valid members, in order, as `key=value`. */
  members: string[];
  problems: TracestateProblem[];
}

// key = simple-key / multi-tenant-key (spec section 3.3.1.3.1)
const SIMPLE_KEY = /^[a-z][a-z0-9_\-*/]{0,255}$/;
const MULTI_TENANT_KEY = /^[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13}$/;
// value = 0*255(chr) nblk-chr; chr = %x20 / nblk-chr; nblk-chr = %x21-2B / %x2D-3C / %x3E-7E
const VALUE = /^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/;

function isValidTracestateKey(key: string): boolean {
  return SIMPLE_KEY.test(key) || MULTI_TENANT_KEY.test(key);
}

function isValidTracestateValue(value: string): boolean {
  return VALUE.test(value);
}

/**
 * Validates a `tracestate` header: list members separated by commas (optional whitespace
 * around them, empty members allowed), each `key=value` by the spec's grammar, keys unique,
 * at most 32 members. A header over 512 characters is reported oversize.
 */
export function parseTracestate(header: string): TracestateResult {
  const problems: TracestateProblem[] = [];
  if (header.length > MAX_TRACESTATE_LENGTH) problems.push('oversize');
  const members: string[] = [];
  const seen = new Set<string>();
  for (const raw of header.split(',')) {
    const member = trimOptionalWhitespace(raw);
    if (member.length === 0) continue;
    const eq = member.indexOf('=');
    const key = eq > 0 ? member.slice(0, eq) : '';
    const value = eq > 0 ? member.slice(eq + 1) : '';
    if (!isValidTracestateKey(key) || !isValidTracestateValue(value)) {
      if (!problems.includes('invalid_member')) problems.push('invalid_member');
      continue;
    }
    if (seen.has(key)) {
      if (!problems.includes('duplicate_key')) problems.push('duplicate_key');
      continue;
    }
    seen.add(key);
    members.push(`${key}=${value}`);
  }
  if (members.length > MAX_TRACESTATE_MEMBERS) problems.push('too_many_members');
  return { members, problems };
}
