import * as assert from 'node:assert/strict';
import { diag, DiagLogLevel, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { HealthCounters } from '../../src/health.js';
import { HEALTH_MALFORMED_TRACEPARENT, HEALTH_MALFORMED_TRACESTATE, HEALTH_OVERSIZE_HEADERS } from '../../src/health-names.js';
import { GuardedBaggagePropagator } from '../../src/propagation/guarded-baggage-propagator.js';
import { resolveBaggageLimits } from '../../src/propagation/baggage-filter.js';
import { GuardedTraceContextPropagator } from '../../src/propagation/guarded-trace-context-propagator.js';
import { parseTracestate } from '../../src/propagation/trace-context-validation.js';

// Cases follow the W3C Trace Context Recommendation (https://www.w3.org/TR/trace-context/),
// sections 3.2 (traceparent) and 3.3 (tracestate).
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const PARENT_ID = '00f067aa0ba902b7';

interface TraceparentCase {
  title: string;
  header: string;
  /** Expected parent, or undefined when the header must be ignored. */
  parent?: { traceId: string; spanId: string; sampled: boolean };
  counter?: string;
}

const traceparentCases: TraceparentCase[] = [
  { title: 'version 00, sampled', header: `00-${TRACE_ID}-${PARENT_ID}-01`, parent: { traceId: TRACE_ID, spanId: PARENT_ID, sampled: true } },
  { title: 'version 00, not sampled', header: `00-${TRACE_ID}-${PARENT_ID}-00`, parent: { traceId: TRACE_ID, spanId: PARENT_ID, sampled: false } },
  { title: 'unknown flag bits are ignored, sampled bit kept (3.2.2.5)', header: `00-${TRACE_ID}-${PARENT_ID}-09`, parent: { traceId: TRACE_ID, spanId: PARENT_ID, sampled: true } },
  { title: 'future version parsed as version 00 (3.2.4)', header: `01-${TRACE_ID}-${PARENT_ID}-01`, parent: { traceId: TRACE_ID, spanId: PARENT_ID, sampled: true } },
  { title: 'future version with extra fields after a dash (3.2.4)', header: `cc-${TRACE_ID}-${PARENT_ID}-01-what-the-future-holds`, parent: { traceId: TRACE_ID, spanId: PARENT_ID, sampled: true } },
  { title: 'future version with extra characters but no dash', header: `cc-${TRACE_ID}-${PARENT_ID}-01x`, counter: HEALTH_MALFORMED_TRACEPARENT },
  { title: 'version ff is invalid (3.2.2.1)', header: `ff-${TRACE_ID}-${PARENT_ID}-01`, counter: HEALTH_MALFORMED_TRACEPARENT },
  { title: 'version 00 with extra fields is invalid', header: `00-${TRACE_ID}-${PARENT_ID}-01-extra`, counter: HEALTH_MALFORMED_TRACEPARENT },
  { title: 'all-zero trace id (3.2.2.3)', header: `00-${'0'.repeat(32)}-${PARENT_ID}-01`, counter: HEALTH_MALFORMED_TRACEPARENT },
  { title: 'all-zero parent id (3.2.2.4)', header: `00-${TRACE_ID}-${'0'.repeat(16)}-01`, counter: HEALTH_MALFORMED_TRACEPARENT },
  { title: 'uppercase hex is invalid', header: `00-${TRACE_ID.toUpperCase()}-${PARENT_ID}-01`, counter: HEALTH_MALFORMED_TRACEPARENT },
  { title: 'uppercase version is invalid', header: `0A-${TRACE_ID}-${PARENT_ID}-01`, counter: HEALTH_MALFORMED_TRACEPARENT },
  { title: 'short trace id', header: `00-${TRACE_ID.slice(1)}-${PARENT_ID}-01`, counter: HEALTH_MALFORMED_TRACEPARENT },
  { title: 'short parent id', header: `00-${TRACE_ID}-${PARENT_ID.slice(1)}-01`, counter: HEALTH_MALFORMED_TRACEPARENT },
  { title: 'non-hex flags', header: `00-${TRACE_ID}-${PARENT_ID}-0g`, counter: HEALTH_MALFORMED_TRACEPARENT },
  { title: 'one-digit flags', header: `00-${TRACE_ID}-${PARENT_ID}-1`, counter: HEALTH_MALFORMED_TRACEPARENT },
  { title: 'wrong delimiter', header: `00_${TRACE_ID}_${PARENT_ID}_01`, counter: HEALTH_MALFORMED_TRACEPARENT },
  { title: 'empty header', header: '', counter: HEALTH_MALFORMED_TRACEPARENT },
  { title: 'garbage', header: 'not a traceparent', counter: HEALTH_MALFORMED_TRACEPARENT },
  { title: 'oversize header', header: `cc-${TRACE_ID}-${PARENT_ID}-01-${'a'.repeat(600)}`, counter: HEALTH_OVERSIZE_HEADERS },
  { title: 'spaces and tabs around the header are optional whitespace', header: ` \t00-${TRACE_ID}-${PARENT_ID}-01\t `, parent: { traceId: TRACE_ID, spanId: PARENT_ID, sampled: true } },
  { title: 'a no-break space (an obs-text byte on the wire) is not whitespace', header: `\u00a000-${TRACE_ID}-${PARENT_ID}-01`, counter: HEALTH_MALFORMED_TRACEPARENT },
  { title: 'nor is any other Unicode space', header: `00-${TRACE_ID}-${PARENT_ID}-01\u2003`, counter: HEALTH_MALFORMED_TRACEPARENT },
];

describe('W3C traceparent handling', () => {
  for (const testCase of traceparentCases) {
    it(testCase.title, () => {
      const health = new HealthCounters();
      const propagator = new GuardedTraceContextPropagator(health);
      const context = propagator.extract(ROOT_CONTEXT, { traceparent: testCase.header });
      const spanContext = trace.getSpanContext(context);
      if (testCase.parent) {
        assert.equal(spanContext?.traceId, testCase.parent.traceId);
        assert.equal(spanContext?.spanId, testCase.parent.spanId);
        assert.equal(spanContext?.isRemote, true);
        assert.equal((spanContext.traceFlags & 1) === 1, testCase.parent.sampled);
        assert.deepEqual(health.snapshot(), {});
      } else {
        assert.equal(spanContext, undefined, 'the header must not become a parent');
        assert.equal(health.get(testCase.counter!), 1);
      }
    });
  }

  it('does not parse tracestate when traceparent is invalid (3.3)', () => {
    const health = new HealthCounters();
    const context = new GuardedTraceContextPropagator(health).extract(ROOT_CONTEXT, { traceparent: 'bad', tracestate: 'a=1,,=' });
    assert.equal(trace.getSpanContext(context), undefined);
    assert.equal(health.get(HEALTH_MALFORMED_TRACESTATE), 0);
  });

  it('counts every bad header and says each kind once, not once per request', () => {
    const warnings: string[] = [];
    const record = (message: string): void => void warnings.push(message);
    diag.setLogger({ error: record, warn: record, info: () => {}, debug: () => {}, verbose: () => {} }, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
    try {
      const health = new HealthCounters();
      const traceContext = new GuardedTraceContextPropagator(health);
      const baggage = new GuardedBaggagePropagator(resolveBaggageLimits(undefined), health);
      for (let request = 0; request < 3; request++) {
        traceContext.extract(ROOT_CONTEXT, { traceparent: 'not a traceparent' });
        traceContext.extract(ROOT_CONTEXT, { traceparent: `cc-${TRACE_ID}-${PARENT_ID}-01-${'a'.repeat(600)}` });
        traceContext.extract(ROOT_CONTEXT, { traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`, tracestate: 'Bad=1,b=2' });
        baggage.extract(ROOT_CONTEXT, { baggage: 'no-equals-sign' });
      }
      assert.equal(health.get(HEALTH_MALFORMED_TRACEPARENT), 3);
      assert.equal(health.get(HEALTH_OVERSIZE_HEADERS), 3);
      assert.equal(health.get(HEALTH_MALFORMED_TRACESTATE), 3);
      assert.equal(warnings.length, 4, warnings.join('\n'));
    } finally {
      diag.disable();
    }
  });

  it('leaves the context untouched without a traceparent', () => {
    const health = new HealthCounters();
    const context = new GuardedTraceContextPropagator(health).extract(ROOT_CONTEXT, { tracestate: 'a=1' });
    assert.equal(context, ROOT_CONTEXT);
  });
});

interface TracestateCase {
  title: string;
  header: string;
  /** The tracestate the extracted span context carries, serialized. */
  kept: string;
  counter?: string;
}

const member = (i: number): string => `k${i}=v${i}`;
const many = (n: number): string => Array.from({ length: n }, (_, i) => member(i)).join(',');

const tracestateCases: TracestateCase[] = [
  { title: 'simple keys and values', header: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE', kept: 'rojo=00f067aa0ba902b7,congo=t61rcWkgMzE' },
  { title: 'multi-tenant key (tenant@system)', header: 'fw529a3039@dt=abc', kept: 'fw529a3039@dt=abc' },
  { title: 'key characters _ - * / allowed', header: 'a_b-c*d/e=1', kept: 'a_b-c*d/e=1' },
  { title: 'optional whitespace around members, empty members ignored', header: ' a=1 , ,b=2 ', kept: 'a=1,b=2' },
  { title: 'value with inner spaces', header: 'a=hello world', kept: 'a=hello world' },
  { title: 'uppercase key is invalid', header: 'Key=1,b=2', kept: 'b=2', counter: HEALTH_MALFORMED_TRACESTATE },
  { title: 'key starting with a digit (simple key) is invalid', header: '1a=1,b=2', kept: 'b=2', counter: HEALTH_MALFORMED_TRACESTATE },
  { title: 'value containing "=" is invalid', header: 'a=b=c,b=2', kept: 'b=2', counter: HEALTH_MALFORMED_TRACESTATE },
  { title: 'value containing "," cannot exist; member without "=" is invalid', header: 'a,b=2', kept: 'b=2', counter: HEALTH_MALFORMED_TRACESTATE },
  { title: 'empty value is invalid', header: 'a=,b=2', kept: 'b=2', counter: HEALTH_MALFORMED_TRACESTATE },
  { title: 'a space before the comma is optional whitespace around the member, not part of its value', header: 'a=x ,b=2', kept: 'a=x,b=2' },
  { title: 'a no-break space around a member is not optional whitespace', header: '\u00a0a=1,b=2', kept: 'b=2', counter: HEALTH_MALFORMED_TRACESTATE },
  { title: 'a key of 256 characters is valid', header: `${'k'.repeat(256)}=1,b=2`, kept: `${'k'.repeat(256)}=1,b=2` },
  { title: 'a key of 257 characters is invalid', header: `${'k'.repeat(257)}=1,b=2`, kept: 'b=2', counter: HEALTH_MALFORMED_TRACESTATE },
  { title: 'a value of 256 characters is valid', header: `a=${'v'.repeat(256)},b=2`, kept: `a=${'v'.repeat(256)},b=2` },
  { title: 'a value of 257 characters is invalid', header: `a=${'v'.repeat(257)},b=2`, kept: 'b=2', counter: HEALTH_MALFORMED_TRACESTATE },
  { title: 'tenant id over 241 characters is invalid', header: `${'t'.repeat(242)}@dt=1,b=2`, kept: 'b=2', counter: HEALTH_MALFORMED_TRACESTATE },
  { title: 'system id over 14 characters is invalid', header: `t@${'s'.repeat(15)}=1,b=2`, kept: 'b=2', counter: HEALTH_MALFORMED_TRACESTATE },
  { title: 'duplicate keys: the first is kept', header: 'a=1,a=2', kept: 'a=1', counter: HEALTH_MALFORMED_TRACESTATE },
  { title: '32 members are kept', header: many(32), kept: many(32) },
  { title: 'more than 32 members: the first 32 are kept', header: many(33), kept: many(32), counter: HEALTH_MALFORMED_TRACESTATE },
  {
    title: 'over 512 characters: long members (>128) go first',
    header: `a=${'x'.repeat(250)},b=${'y'.repeat(250)},c=${'z'.repeat(100)},d=1`,
    kept: `c=${'z'.repeat(100)},d=1`,
    counter: HEALTH_OVERSIZE_HEADERS,
  },
  {
    title: 'over 512 characters of short members: truncated from the end',
    header: Array.from({ length: 8 }, (_, i) => `k${i}=${'v'.repeat(100)}`).join(','),
    kept: Array.from({ length: 4 }, (_, i) => `k${i}=${'v'.repeat(100)}`).join(','),
    counter: HEALTH_OVERSIZE_HEADERS,
  },
];

describe('W3C tracestate handling', () => {
  for (const testCase of tracestateCases) {
    it(testCase.title, () => {
      const health = new HealthCounters();
      const context = new GuardedTraceContextPropagator(health).extract(ROOT_CONTEXT, {
        traceparent: `00-${TRACE_ID}-${PARENT_ID}-01`,
        tracestate: testCase.header,
      });
      const spanContext = trace.getSpanContext(context);
      assert.equal(spanContext?.traceId, TRACE_ID, 'a bad tracestate never discards the traceparent');
      assert.equal(spanContext.traceState?.serialize() ?? '', testCase.kept);
      if (testCase.counter) assert.equal(health.get(testCase.counter), 1);
      else assert.deepEqual(health.snapshot(), {});
    });
  }

  it('parseTracestate reports every kind of problem without throwing', () => {
    const result = parseTracestate(`A=1,a=1,a=2,${many(40)}`);
    assert.deepEqual(result.problems.sort(), ['duplicate_key', 'invalid_member', 'too_many_members']);
  });
});
