/** Consistency of the checked-in model beyond what the validator enforces for every model. */
import assert from 'node:assert/strict';
import { loadModelSources, validateModel } from '../scripts/validate.js';

describe('model/*.yaml', () => {
  const registry = validateModel(loadModelSources());
  const signals = [...registry.spans, ...registry.metrics, ...registry.events];

  it('uses every attribute it defines in a span, metric or event', () => {
    const used = new Set(signals.flatMap((s) => s.attributes.map((a) => a.ref)));
    const unused = [...registry.attributes.keys()].filter((id) => !used.has(id));
    assert.deepEqual(unused, []);
  });

  it('lists an attribute as a dimension of every metric its note says it is a dimension of', () => {
    for (const attr of registry.attributes.values()) {
      for (const match of (attr.note ?? '').matchAll(/metric dimension of `([a-z.]+)`/g)) {
        const metric = registry.metrics.find((m) => m.metricName === match[1]);
        assert.ok(metric, `${attr.id} names an unknown metric ${match[1]}`);
        assert.ok(metric.attributes.some((a) => a.ref === attr.id), `${match[1]} lacks the dimension ${attr.id}`);
      }
    }
  });

  it('gives every attribute a brief and a note with the reasoning, and examples', () => {
    for (const attr of registry.attributes.values()) {
      assert.ok(attr.note && attr.note.length > 40, `${attr.id} has no note`);
      assert.ok(attr.examples.length > 0, `${attr.id} has no examples`);
    }
  });

  it('keeps the core identifiers, enums and span names stable and everything else in development', () => {
    const stable = new Set([
      'payment.trade_no',
      'payment.order.id',
      'payment.merchant.id',
      'payment.provider',
      'payment.method',
      'payment.amount',
      'payment.currency',
      'payment.stage',
      'payment.outcome',
      'payment.failure.reason',
      'payment.failure.code',
    ]);
    for (const attr of registry.attributes.values()) {
      assert.equal(attr.stability, stable.has(attr.id) ? 'stable' : 'development', attr.id);
    }
    for (const span of registry.spans) assert.equal(span.stability, 'stable', span.spanName);
    for (const signal of [...registry.metrics, ...registry.events]) assert.equal(signal.stability, 'development', signal.id);
  });

  it('records amounts as integers in minor units and raw provider statuses as strings', () => {
    assert.equal(registry.attributes.get('payment.amount')?.type, 'int');
    assert.equal(registry.attributes.get('payment.provider.status')?.type, 'string');
  });
});
