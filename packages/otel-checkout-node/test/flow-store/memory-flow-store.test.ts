import assert from 'node:assert/strict';
import { MemoryFlowStore } from '../../src/index.js';
import { flowStoreContract } from './flow-store-contract.js';

flowStoreContract('MemoryFlowStore', () => Promise.resolve(new MemoryFlowStore()), (store) => store.close());

describe('MemoryFlowStore bounds', () => {
  const rec = (tradeNo: string) => ({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', spanId: 'a1b2c3d4e5f60718', traceFlags: 1, tradeNo, issuedAt: 0 });

  it('evicts the oldest flows beyond maxEntries and counts them', async () => {
    let reported = 0;
    const store = new MemoryFlowStore({ maxEntries: 3, onEvict: () => reported++ });
    for (const t of ['A', 'B', 'C', 'D', 'E']) await store.put(rec(t), Date.now() + 1000);
    assert.equal(await store.size(), 3);
    assert.equal(store.health().evicted, 2);
    assert.equal(reported, 2);
    assert.equal((await store.take('A')).record, undefined);
    assert.equal((await store.take('E')).record?.tradeNo, 'E');
  });

  it('forgets tombstones after the retention', async () => {
    let now = 1_000_000;
    const store = new MemoryFlowStore({ retentionMs: 100, now: () => now });
    await store.put(rec('T'), now + 1000);
    await store.take('T');
    now += 101;
    assert.deepEqual(await store.take('T'), { duplicate: false, late: false });
  });

  it('remembers a take of an unknown trade number for 10 minutes, a bounded number of them, not counted as evictions', async () => {
    let now = 1_000_000;
    const store = new MemoryFlowStore({ maxEntries: 2, now: () => now });
    await store.take('late-write');
    now += 10 * 60 * 1000 - 1;
    await store.put(rec('late-write'), now + 1000);
    assert.equal(await store.size(), 0, 'within 10 minutes: the take ended it');
    await store.take('too-late');
    now += 10 * 60 * 1000;
    await store.put(rec('too-late'), now + 1000);
    assert.equal(await store.size(), 1, 'after 10 minutes the take is forgotten: the flow waits');
    for (const t of ['X', 'Y', 'Z']) await store.take(t);
    await store.put(rec('X'), now + 1000);
    assert.equal(await store.size(), 2, 'beyond maxEntries the oldest take is forgotten');
    await store.put(rec('Z'), now + 1000);
    assert.equal(await store.size(), 2, 'the newest is remembered');
    assert.equal(store.health().evicted, 0);
  });

  it('keeps a span index only of the flows and tombstones it holds: evicted, expired and replaced ones leave it', async () => {
    let now = 1_000_000;
    const store = new MemoryFlowStore({ maxEntries: 50, retentionMs: 1000, now: () => now });
    const spanOf = (i: number, replaced = false) => `${replaced ? 'f' : '0'}${i.toString(16).padStart(15, '0')}`;
    const internals = store as unknown as { bySpan: Map<string, string>; live: Map<string, unknown>; tombs: Map<string, unknown> };
    for (let i = 0; i < 5000; i++) {
      await store.put({ ...rec(`I${i}`), spanId: spanOf(i) }, now + 100);
      if (i % 3 === 0) await store.take(`I${i}`);
      if (i % 7 === 0) await store.put({ ...rec(`I${i}`), spanId: spanOf(i, true) }, now + 100);
      if (i % 11 === 0) await store.claimExpired(now, 5, 10);
      if (i % 13 === 0) await store.ack([`I${i - 200}`]);
      now += 1;
      assert.ok(internals.bySpan.size <= internals.live.size + internals.tombs.size, `after ${i}: ${internals.bySpan.size} index entries`);
    }
    // Evicted long ago: not found by its span (nor by its trade number).
    assert.equal((await store.takeBySpan(rec('I1').traceId, spanOf(1))).record, undefined);
    assert.equal((await store.takeBySpan(rec('I4999').traceId, spanOf(4999))).record?.tradeNo, 'I4999');
    // A tombstone past its retention is gone from the index too.
    await store.take('I4998');
    now += 1001;
    assert.equal((await store.takeBySpan(rec('I4998').traceId, spanOf(4998))).record, undefined);
  });

  it('keeps its due-time heap bounded when flows are taken before their deadline', async () => {
    const store = new MemoryFlowStore();
    for (let i = 0; i < 20_000; i++) {
      await store.put(rec(`H${i}`), Date.now() + 60_000);
      await store.take(`H${i}`);
    }
    assert.ok((store as unknown as { heap: unknown[] }).heap.length <= 1024 + 2, 'stale heap items are compacted away');
  });
});
