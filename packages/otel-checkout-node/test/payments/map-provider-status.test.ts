import * as assert from 'node:assert/strict';
import { context, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { mapProviderStatus } from '../../src/index.js';
import type { ProviderStatusTable } from '../../src/index.js';

const table: ProviderStatusTable = {
  SUCCESS: 'succeeded',
  TRADE_CLOSED: 'cancelled',
  WAIT_BUYER_PAY: 'pending',
  FAILED: { outcome: 'failed', reason: 'provider_error' },
  '2001': { outcome: 'failed', reason: 'insufficient_funds' },
};

const cases: { raw: string | number; outcome: string; reason?: string; mapped: boolean }[] = [
  { raw: 'SUCCESS', outcome: 'succeeded', mapped: true },
  { raw: 'success', outcome: 'succeeded', mapped: true },
  { raw: 'WAIT_BUYER_PAY', outcome: 'pending', mapped: true },
  { raw: 'FAILED', outcome: 'failed', reason: 'provider_error', mapped: true },
  { raw: 2001, outcome: 'failed', reason: 'insufficient_funds', mapped: true },
  { raw: 'TRADE_FINISHED', outcome: 'unknown', reason: 'unmapped_status', mapped: false },
  { raw: 'constructor', outcome: 'unknown', reason: 'unmapped_status', mapped: false },
  { raw: '__proto__', outcome: 'unknown', reason: 'unmapped_status', mapped: false },
  { raw: '', outcome: 'unknown', reason: 'unmapped_status', mapped: false },
];

describe('mapProviderStatus', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const tracer = provider.getTracer('test');
  before(() => context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable()));
  after(() => context.disable());
  beforeEach(() => exporter.reset());

  for (const testCase of cases) {
    it(`${JSON.stringify(testCase.raw)} → ${testCase.outcome}`, () => {
      const span = tracer.startSpan('payment.provider query');
      const result = context.with(trace.setSpan(context.active(), span), () => mapProviderStatus(table, testCase.raw));
      span.end();
      assert.equal(result.outcome, testCase.outcome);
      assert.equal(result.reason, testCase.reason);
      assert.equal(result.mapped, testCase.mapped);
      assert.equal(result.raw, String(testCase.raw));
      const [recorded] = exporter.getFinishedSpans();
      assert.equal(recorded.attributes['payment.outcome'], testCase.outcome);
      assert.equal(recorded.attributes['payment.provider.status'], String(testCase.raw));
      assert.equal(recorded.attributes['payment.failure.reason'], testCase.reason);
      const events = recorded.events.filter((e) => e.name === 'payment.status.unmapped');
      assert.equal(events.length, testCase.mapped ? 0 : 1);
      if (!testCase.mapped) assert.equal(events[0].attributes?.['payment.provider.status'], String(testCase.raw));
    });
  }

  it('never throws on a broken table and works with no active span', () => {
    assert.equal(mapProviderStatus(null as unknown as ProviderStatusTable, 'X').outcome, 'unknown');
    assert.equal(mapProviderStatus({ X: 42 } as unknown as ProviderStatusTable, 'X').mapped, false);
  });
});
