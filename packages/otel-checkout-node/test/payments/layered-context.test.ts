import * as assert from 'node:assert/strict';
import { context, createContextKey, propagation, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { contextWithValue } from '../../src/payments/layered-context.js';

const first = createContextKey('first');
const second = createContextKey('second');
const third = createContextKey('third');

describe('contextWithValue', () => {
  it('reads its own entry and falls through to the parent for the rest', () => {
    const parent = ROOT_CONTEXT.setValue(first, 'from parent');
    const layered = contextWithValue(parent, second, 'layered');
    assert.equal(layered.getValue(second), 'layered');
    assert.equal(layered.getValue(first), 'from parent');
    assert.equal(layered.getValue(third), undefined);
  });

  it('shadows a value the parent holds under the same key without changing the parent', () => {
    const parent = ROOT_CONTEXT.setValue(first, 'old');
    const layered = contextWithValue(parent, first, 'new');
    assert.equal(layered.getValue(first), 'new');
    assert.equal(parent.getValue(first), 'old');
  });

  it('derives new contexts on setValue and leaves itself unchanged', () => {
    const layered = contextWithValue(ROOT_CONTEXT, first, 1);
    const replaced = layered.setValue(first, 2);
    const added = layered.setValue(second, 3);
    assert.equal(layered.getValue(first), 1);
    assert.equal(layered.getValue(second), undefined);
    assert.equal(replaced.getValue(first), 2);
    assert.equal(added.getValue(first), 1);
    assert.equal(added.getValue(second), 3);
  });

  it('deletes its own entry together with any older value the parent holds under that key', () => {
    const parent = ROOT_CONTEXT.setValue(first, 'old').setValue(second, 'kept');
    const layered = contextWithValue(parent, first, 'new');
    const deleted = layered.deleteValue(first);
    assert.equal(deleted.getValue(first), undefined);
    assert.equal(deleted.getValue(second), 'kept');
    assert.equal(layered.getValue(first), 'new');
  });

  it('keeps its entry when another key is deleted', () => {
    const parent = ROOT_CONTEXT.setValue(second, 'gone');
    const deleted = contextWithValue(parent, first, 'kept').deleteValue(second);
    assert.equal(deleted.getValue(first), 'kept');
    assert.equal(deleted.getValue(second), undefined);
  });

  it('keeps lookups shallow when layers are derived from one another', () => {
    let ctx = contextWithValue(ROOT_CONTEXT, first, 0);
    for (let i = 1; i <= 100; i++) ctx = ctx.setValue(first, i).setValue(second, -i);
    assert.equal(ctx.getValue(first), 100);
    assert.equal(ctx.getValue(second), -100);
    const nested = contextWithValue(contextWithValue(ROOT_CONTEXT, first, 'outer'), first, 'inner');
    assert.equal(nested.getValue(first), 'inner');
    assert.equal(nested.deleteValue(first).getValue(first), undefined);
  });

  describe('as the active context', () => {
    const manager = new AsyncLocalStorageContextManager();
    before(() => {
      context.setGlobalContextManager(manager.enable());
      propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    });
    after(() => {
      context.disable();
      propagation.disable();
    });

    it('is active inside context.with, across an await, and propagates the span it carries', async () => {
      const spanContext = {
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
        spanId: '00f067aa0ba902b7',
        traceFlags: 1,
      };
      const ctx = contextWithValue(trace.setSpanContext(ROOT_CONTEXT, spanContext), first, 'payment');
      await context.with(ctx, async () => {
        await Promise.resolve();
        assert.equal(context.active().getValue(first), 'payment');
        const carrier: Record<string, string> = {};
        propagation.inject(context.active(), carrier);
        assert.equal(carrier.traceparent, '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
      });
      assert.equal(context.active().getValue(first), undefined);
    });
  });
});
