import assert from 'node:assert/strict';
import { BasicTracerProvider } from '@opentelemetry/sdk-trace-base';
import { deadlineSeconds } from '../../src/flows/deadlines.js';
import { createFlows } from '../../src/flows/flows.js';
import { withTokenParam } from '../../src/flows/url-token.js';
import { HealthCounters } from '../../src/health.js';
import { MemoryFlowStore } from '../../src/index.js';

const FLOW = { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: '00f067aa0ba902b7', traceFlags: 1, tradeNo: 'T1', provider: 'acme' };
const tracer = new BasicTracerProvider().getTracer('t');

describe('flows: URLs, deadlines, configuration', () => {
  it('appends the token keeping the query and fragment, replacing an earlier token', () => {
    assert.equal(withTokenParam('https://s.example/r', 'otc_flow', 'TOK'), 'https://s.example/r?otc_flow=TOK');
    assert.equal(withTokenParam('https://s.example/r?a=1&b=2#top', 'otc_flow', 'TOK'), 'https://s.example/r?a=1&b=2&otc_flow=TOK#top');
    assert.equal(withTokenParam('/r?otc_flow=OLD&a=1', 'otc_flow', 'NEW'), '/r?a=1&otc_flow=NEW');
    assert.equal(withTokenParam('/r?', 't', 'X'), '/r?t=X');
    assert.equal(withTokenParam('/r?x=%E0%A4%A', 't', 'X'), '/r?x=%E0%A4%A&t=X', 'a broken escape elsewhere is kept as it is');
  });

  it('resolves deadlines: the first matching rule, else the default, else 1800 s', () => {
    const table = {
      default: 600,
      rules: [
        { provider: 'slowbank', method: 'bank_transfer', seconds: 7200 },
        { provider: 'slowbank', seconds: 3600 },
        { method: 'qr', seconds: 300 },
      ],
    };
    assert.equal(deadlineSeconds(table, 'slowbank', 'bank_transfer'), 7200);
    assert.equal(deadlineSeconds(table, 'slowbank', 'card'), 3600);
    assert.equal(deadlineSeconds(table, 'other', 'qr'), 300);
    assert.equal(deadlineSeconds(table, 'other', 'card'), 600);
    assert.equal(deadlineSeconds(undefined), 1800);
    assert.equal(deadlineSeconds(-5), 1800);
    assert.equal(deadlineSeconds({ rules: [{ seconds: Number.NaN }] }), 1800);
  });

  it('without keys: URLs unchanged, warned once, flows still recorded for store-only correlation', async () => {
    const health = new HealthCounters();
    const store = new MemoryFlowStore();
    const flows = createFlows({ store }, { tracer, health });
    assert.equal(flows.returnUrl(FLOW, '/r?a=1'), '/r?a=1');
    assert.equal(flows.passback(FLOW), '');
    await flows.whenRecorded();
    assert.equal(await store.size(), 1);
    await flows.shutdown();
  });

  it('counts evictions in the health counters, from its own store and from one the application made', async () => {
    const keys = { current: { id: 'k', secret: 'a-long-enough-secret-123' } };
    let userCounted = 0;
    const userStore = new MemoryFlowStore({ maxEntries: 2, onEvict: () => userCounted++ });
    for (const store of [userStore, undefined]) {
      const health = new HealthCounters();
      const flows = createFlows({ keys, ...(store ? { store } : {}) }, { tracer, health });
      // The package's own store keeps 100000 flows: only the application's small one evicts here.
      for (const tradeNo of ['T1', 'T2', 'T3', 'T4']) flows.returnUrl({ ...FLOW, tradeNo, spanId: `${tradeNo}00000000000000`.slice(0, 16) }, '/r');
      await flows.whenRecorded();
      assert.equal(health.get('flowStoreEvictions'), store ? 2 : 0);
      await flows.shutdown();
    }
    assert.equal(userCounted, 2, "the application's own onEvict still runs");
  });

  it('stops counting into a stopped handle when the application keeps using its store', async () => {
    const keys = { current: { id: 'k', secret: 'a-long-enough-secret-123' } };
    const store = new MemoryFlowStore({ maxEntries: 1 });
    const health = new HealthCounters();
    const flows = createFlows({ keys, store }, { tracer, health });
    flows.returnUrl({ ...FLOW, tradeNo: 'A' }, '/r');
    flows.returnUrl({ ...FLOW, tradeNo: 'B', spanId: '1111111111111111' }, '/r');
    await flows.whenRecorded();
    assert.equal(health.get('flowStoreEvictions'), 1);
    await flows.shutdown();
    await store.put({ ...FLOW, tradeNo: 'C', spanId: '2222222222222222', issuedAt: Date.now() }, Date.now() + 60_000);
    assert.equal(store.health().evicted, 2, 'the store evicted again');
    assert.equal(health.get('flowStoreEvictions'), 1, 'but not into the stopped handle');
  });

  it('unusable keys warn and mint nothing instead of throwing at the host', () => {
    const health = new HealthCounters();
    const flows = createFlows({ keys: { current: { id: 'k', secret: 'short' } }, store: false }, { tracer, health });
    assert.equal(flows.notifyUrl(FLOW, '/n'), '/n');
    assert.equal(flows.verifyToken('anything', 'callback').ok, false);
  });

  it('records a flow once however many URLs it mints; flows without a trade number are counted, not stored', async () => {
    const health = new HealthCounters();
    const store = new MemoryFlowStore();
    const flows = createFlows({ keys: { current: { id: 'k', secret: 'a-long-enough-secret-123' } }, store }, { tracer, health });
    flows.returnUrl(FLOW, '/r');
    flows.notifyUrl(FLOW, '/n');
    flows.passback(FLOW);
    flows.passback({ ...FLOW, tradeNo: undefined, spanId: '1111111111111111' });
    await flows.whenRecorded();
    assert.equal(await store.size(), 1);
    assert.equal(health.get('tokensMinted'), 4);
    assert.equal(health.get('flowsWithoutTradeNo'), 1);
    await flows.shutdown();
  });

  it('counts a flow without a trade number once however many URLs it mints, and still stores it once the trade number is known', async () => {
    const health = new HealthCounters();
    const store = new MemoryFlowStore();
    const flows = createFlows({ keys: { current: { id: 'k', secret: 'a-long-enough-secret-123' } }, store }, { tracer, health });
    const untraded = { ...FLOW, tradeNo: undefined, spanId: '2222222222222222' };
    const before = health.get('flowsWithoutTradeNo');
    flows.returnUrl(untraded, '/r');
    flows.notifyUrl(untraded, '/n');
    flows.passback(untraded);
    assert.equal(health.get('flowsWithoutTradeNo') - before, 1, 'one flow, three mints: counted once');
    flows.returnUrl({ ...untraded, spanId: '3333333333333333' }, '/r');
    flows.notifyUrl({ ...untraded, spanId: '3333333333333333' }, '/n');
    assert.equal(health.get('flowsWithoutTradeNo') - before, 2, 'a second flow counts again');
    flows.notifyUrl({ ...untraded, tradeNo: 'T2' }, '/n');
    await flows.whenRecorded();
    assert.equal(await store.size(), 1, 'the first flow is put once its trade number is set');
    assert.equal(health.get('flowsWithoutTradeNo') - before, 2);
    await flows.shutdown();
  });

  it('a store that throws synchronously on put costs the request nothing and is counted', async () => {
    const health = new HealthCounters();
    const store = Object.assign(new MemoryFlowStore(), {
      put: () => {
        throw new Error('boom');
      },
    });
    const flows = createFlows({ keys: { current: { id: 'k', secret: 'a-long-enough-secret-123' } }, store }, { tracer, health });
    assert.match(flows.returnUrl(FLOW, '/r'), /otc_flow=/);
    await flows.whenRecorded();
    assert.equal(health.get('flowStoreFallbacks'), 1);
  });
});
