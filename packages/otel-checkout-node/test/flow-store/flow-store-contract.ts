import assert from 'node:assert/strict';
import type { FlowRecord, FlowStore } from '../../src/index.js';

/** The behaviour every FlowStore must have; run against the memory and the Redis store. */
export function flowStoreContract(name: string, make: () => Promise<FlowStore>, cleanup: (store: FlowStore) => Promise<void>): void {
  describe(`${name}: FlowStore contract`, () => {
    let store: FlowStore;
    beforeEach(async () => {
      store = await make();
    });
    afterEach(async () => {
      await cleanup(store);
    });

    const rec = (tradeNo: string, spanId = 'a1b2c3d4e5f60718'): FlowRecord => ({
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      spanId,
      traceFlags: 1,
      tradeNo,
      provider: 'acme',
      method: 'card',
      issuedAt: 1_000,
    });

    it('take returns the record once, then a duplicate tombstone that still knows the flow', async () => {
      await store.put(rec('T1'), Date.now() + 60_000);
      assert.equal(await store.size(), 1);
      assert.deepEqual(await store.take('T1'), { record: rec('T1'), duplicate: false, late: false });
      assert.deepEqual(await store.take('T1'), { record: rec('T1'), duplicate: true, late: false });
      assert.equal(await store.size(), 0);
      assert.deepEqual(await store.take('unknown'), { duplicate: false, late: false });
    });

    it('keeps the release and cohort a record carries', async () => {
      const withCanary = { ...rec('C1'), release: 'web-2026.12.2', cohort: 'canary' };
      await store.put(withCanary, Date.now() - 1);
      const [claimed] = await store.claimExpired(Date.now(), 10, 1000);
      assert.deepEqual(claimed.record, withCanary);
      assert.deepEqual((await store.take('C1')).record, withCanary);
    });

    it('a second put of the same flow keeps the first; a new flow for the trade number replaces it', async () => {
      await store.put({ ...rec('T2'), issuedAt: 1 }, Date.now() + 60_000);
      await store.put({ ...rec('T2'), issuedAt: 2 }, Date.now() + 60_000);
      assert.equal((await store.take('T2')).record?.issuedAt, 1);
      await store.put({ ...rec('T2', 'ffffffffffffffff'), issuedAt: 3 }, Date.now() + 60_000);
      assert.deepEqual(await store.take('T2'), { record: { ...rec('T2', 'ffffffffffffffff'), issuedAt: 3 }, duplicate: false, late: false });
    });

    it('a flow put again after its take (a "still pending" callback) waits again: claimable, and its next take is no duplicate', async () => {
      const now = Date.now();
      await store.put(rec('P1'), now + 60_000);
      assert.equal((await store.take('P1')).duplicate, false);
      await store.put(rec('P1'), now - 1);
      assert.equal(await store.size(), 1);
      const [claimed] = await store.claimExpired(now, 10, 1000);
      assert.deepEqual([claimed.record, claimed.claims], [rec('P1'), 1]);
      await store.put(rec('P2'), now + 60_000);
      await store.take('P2');
      await store.put(rec('P2'), now + 60_000);
      assert.deepEqual(await store.take('P2'), { record: rec('P2'), duplicate: false, late: false });
      assert.deepEqual(await store.take('P2'), { record: rec('P2'), duplicate: true, late: false });
    });

    it('keepWaiting keeps a live flow waiting, due again from now by the time it was given, and takes nothing', async () => {
      const now = Date.now();
      assert.equal(typeof store.keepWaiting, 'function', 'the built-in stores keep flows waiting atomically');
      await store.put({ ...rec('K1'), issuedAt: now }, now + 60_000);
      assert.deepEqual(await store.keepWaiting!('K1', now + 30_000), { record: { ...rec('K1'), issuedAt: now }, duplicate: false, late: false, waiting: true });
      assert.deepEqual(await store.keepWaiting!('K1', now + 40_000), { record: { ...rec('K1'), issuedAt: now }, duplicate: false, late: false, waiting: true });
      assert.equal(await store.size(), 1);
      assert.deepEqual(await store.claimExpired(now + 99_999, 10, 1000), [], 'not due before 60 s after the last pending notification');
      assert.deepEqual((await store.claimExpired(now + 100_000, 10, 1000)).map((c) => [c.record.tradeNo, c.claims]), [['K1', 1]]);
      // The final notification, after the pending ones, is the flow's end: no duplicate.
      await store.put({ ...rec('K2'), issuedAt: now }, now + 60_000);
      await store.keepWaiting!('K2', now);
      assert.deepEqual(await store.take('K2'), { record: { ...rec('K2'), issuedAt: now }, duplicate: false, late: false });
      assert.equal((await store.take('K2')).duplicate, true);
    });

    it('keepWaiting keeps the last status it is given for the claim that reports the flow stalled; a new flow starts without', async () => {
      const now = Date.now();
      await store.put({ ...rec('L1'), issuedAt: now }, now + 60_000);
      await store.keepWaiting!('L1', now, 'WAIT_BUYER_PAY');
      await store.keepWaiting!('L1', now, 'RISK_REVIEW');
      // A notification without a status it could keep (none, or an empty one) leaves the last one.
      await store.keepWaiting!('L1', now);
      await store.keepWaiting!('L1', now, '');
      await store.put({ ...rec('L2'), issuedAt: now }, now + 60_000);
      await store.keepWaiting!('L2', now, 'WAIT_BUYER_PAY');
      await store.put({ ...rec('L2', 'ffffffffffffffff'), issuedAt: now }, now + 60_000);
      await store.put({ ...rec('L3'), issuedAt: now }, now + 60_000);
      const claimed = await store.claimExpired(now + 60_000, 10, 1000);
      assert.deepEqual(
        claimed.map((c) => [c.record.tradeNo, c.record.lastStatus]).sort(),
        [
          ['L1', 'RISK_REVIEW'],
          ['L2', undefined],
          ['L3', undefined],
        ],
      );
    });

    it('keepWaiting leaves alone what is not a live, unclaimed flow, and reports it as take would', async () => {
      const now = Date.now();
      // Ended (its final notification came first): a duplicate, still ended.
      await store.put(rec('W1'), now + 60_000);
      await store.take('W1');
      assert.deepEqual(await store.keepWaiting!('W1', now), { record: rec('W1'), duplicate: true, late: false, waiting: false });
      assert.deepEqual(await store.claimExpired(now + 10 * 86_400_000, 10, 1000), []);
      // Declared stalled: late; the final notification that follows is late too, not a duplicate.
      await store.put(rec('W2'), now - 10);
      await store.claimExpired(now, 10, 1000);
      await store.ack(['W2']);
      assert.deepEqual(await store.keepWaiting!('W2', now), { record: rec('W2'), duplicate: false, late: true, waiting: false });
      assert.deepEqual(await store.take('W2'), { record: rec('W2'), duplicate: false, late: true });
      // Claimed by a sweeper, not yet acknowledged: late, and the sweeper's ack still ends it.
      await store.put(rec('W3'), now - 10);
      await store.claimExpired(now, 10, 60_000);
      assert.deepEqual(await store.keepWaiting!('W3', now), { record: rec('W3'), duplicate: false, late: true, waiting: false });
      await store.ack(['W3']);
      assert.equal(await store.size(), 0);
      // Unknown: nothing, and nothing remembered (a pending notification is no flow's end).
      assert.deepEqual(await store.keepWaiting!('W4', now), { duplicate: false, late: false, waiting: false });
      await store.put(rec('W4'), now + 60_000);
      assert.deepEqual(await store.take('W4'), { record: rec('W4'), duplicate: false, late: false });
    });

    it('a put that lands after a take found nothing records the flow as taken by it', async () => {
      // The notification reached the store before the flow's own write (issued earlier) did.
      assert.deepEqual(await store.take('O1'), { duplicate: false, late: false });
      await store.put(rec('O1'), Date.now() + 60_000);
      assert.equal(await store.size(), 0, 'never waits for the callback that already came');
      assert.deepEqual(await store.claimExpired(Date.now() + 10 * 86_400_000, 10, 1000), []);
      assert.deepEqual(await store.take('O1'), { record: rec('O1'), duplicate: true, late: false });
      // A provider retry before the write landed: both takes are on the tombstone, and the
      // second is a duplicate of the first (only one of them may count as the flow's end).
      assert.deepEqual(await store.take('O2'), { duplicate: false, late: false });
      assert.deepEqual(await store.take('O2'), { duplicate: true, late: false });
      await store.put(rec('O2'), Date.now() + 60_000);
      assert.deepEqual(await store.take('O2'), { record: rec('O2'), duplicate: true, late: false });
      // A flow issued after that take is another flow: it waits for its own callback.
      await store.take('O3');
      const later = { ...rec('O3'), issuedAt: Date.now() + 60_000 };
      await store.put(later, Date.now() + 120_000);
      assert.equal(await store.size(), 1);
      assert.deepEqual(await store.take('O3'), { record: later, duplicate: false, late: false });
    });

    it('claims only expired flows, each once per lease, re-claims after the lease, and ack leaves a stalled tombstone', async () => {
      const now = Date.now();
      await store.put(rec('E1'), now - 10);
      await store.put(rec('E2'), now - 5);
      await store.put(rec('F1'), now + 60_000);
      const first = await store.claimExpired(now, 10, 1000);
      assert.deepEqual(first.map((c) => [c.record.tradeNo, c.claims]).sort(), [['E1', 1], ['E2', 1]]);
      assert.deepEqual(await store.claimExpired(now + 999, 10, 1000), [], 'leased flows are not handed out again');
      const again = await store.claimExpired(now + 1000, 10, 1000);
      assert.deepEqual(again.map((c) => [c.record.tradeNo, c.claims]).sort(), [['E1', 2], ['E2', 2]], 'lease lapsed without ack');
      await store.ack(['E1', 'E2']);
      assert.deepEqual(await store.claimExpired(now + 5000, 10, 1000), []);
      assert.deepEqual(await store.take('E1'), { record: rec('E1'), duplicate: false, late: true });
      assert.deepEqual(await store.take('E1'), { record: rec('E1'), duplicate: true, late: true });
      assert.equal(await store.size(), 1);
    });

    it('a claim after an export that was not acknowledged is emitted (a repeat); one after a claim that exported nothing is not', async () => {
      const now = Date.now();
      assert.equal(typeof store.markEmitted, 'function', 'the built-in stores know what was exported');
      await store.put(rec('M1'), now - 10);
      await store.put(rec('M2'), now - 10);
      assert.deepEqual((await store.claimExpired(now, 10, 1000)).map((c) => [c.record.tradeNo, c.claims, c.emitted]).sort(), [['M1', 1, false], ['M2', 1, false]]);
      // The sweeper exported M1's span, then died before its ack; M2's claimer died before exporting.
      await store.markEmitted!(['M1', 'never-put']);
      const again = await store.claimExpired(now + 1000, 10, 1000);
      assert.deepEqual(again.map((c) => [c.record.tradeNo, c.claims, c.emitted]).sort(), [['M1', 2, true], ['M2', 2, false]]);
      await store.ack(['M1', 'M2']);
      await store.markEmitted!(['M1']);
      assert.equal(await store.size(), 0, 'marking an acknowledged flow changes nothing');
    });

    it('an ack leaves alone a new flow put for the trade number since the claim', async () => {
      const now = Date.now();
      await store.put(rec('N1'), now - 10);
      assert.equal((await store.claimExpired(now, 10, 60_000)).length, 1);
      // The shopper pays again under the same trade number while the old flow is being swept.
      const retry = { ...rec('N1', 'ffffffffffffffff'), issuedAt: 2_000 };
      await store.put(retry, now + 60_000);
      await store.ack(['N1']);
      assert.equal(await store.size(), 1, 'the new flow still waits for its callback');
      assert.deepEqual(await store.take('N1'), { record: retry, duplicate: false, late: false });
    });

    it("a sweeper's mark and ack, given the span ids it claimed, leave alone a new flow that another sweeper claimed since", async () => {
      const now = Date.now();
      await store.put(rec('N4'), now - 10);
      const [old] = await store.claimExpired(now, 10, 60_000);
      // Paid again under the trade number, due at once, and claimed by a second sweeper.
      const retry = { ...rec('N4', 'ffffffffffffffff'), issuedAt: 2_000 };
      await store.put(retry, now - 5);
      assert.deepEqual((await store.claimExpired(now, 10, 60_000)).map((c) => c.record.spanId), ['ffffffffffffffff']);
      await store.markEmitted!(['N4'], [old.record.spanId]);
      await store.ack(['N4'], [old.record.spanId]);
      assert.equal(await store.size(), 1, "the first sweeper's ack did not take the second sweeper's flow");
      // The second sweeper dies before its export: the next claim is no repeat.
      assert.deepEqual((await store.claimExpired(now + 60_000, 10, 60_000)).map((c) => [c.record.spanId, c.claims, c.emitted]), [['ffffffffffffffff', 2, false]]);
      await store.ack(['N4'], ['ffffffffffffffff']);
      assert.equal(await store.size(), 0);
    });

    it('an export marked for a flow that was replaced since its claim does not make the new flow a repeat', async () => {
      const now = Date.now();
      // Marked, then the sweeper died before its ack; the trade number is paid again.
      await store.put(rec('N2'), now - 10);
      await store.claimExpired(now, 10, 60_000);
      await store.markEmitted!(['N2']);
      await store.put({ ...rec('N2', 'ffffffffffffffff'), issuedAt: 2_000 }, now - 5);
      assert.deepEqual((await store.claimExpired(now, 10, 60_000)).map((c) => [c.record.spanId, c.claims, c.emitted]), [['ffffffffffffffff', 1, false]]);
      // Claimed, taken by a late callback, paid again, then the old claimer marks its export.
      await store.put(rec('N3'), now - 10);
      await store.claimExpired(now, 10, 60_000);
      await store.take('N3');
      await store.put({ ...rec('N3', 'ffffffffffffffff'), issuedAt: 2_000 }, now - 5);
      await store.markEmitted!(['N3']);
      assert.deepEqual((await store.claimExpired(now, 10, 60_000)).map((c) => [c.record.spanId, c.claims, c.emitted]), [['ffffffffffffffff', 1, false]]);
    });

    it('a callback taken while the flow is claimed (not yet acknowledged) is late, and the ack then changes nothing', async () => {
      const now = Date.now();
      await store.put(rec('C1'), now - 1);
      assert.equal((await store.claimExpired(now, 10, 60_000)).length, 1);
      assert.deepEqual(await store.take('C1'), { record: rec('C1'), duplicate: false, late: true });
      await store.ack(['C1']);
      assert.deepEqual(await store.take('C1'), { record: rec('C1'), duplicate: true, late: true });
    });

    it('a take in the very millisecond the flow was issued is its take: the put that lands after it records the flow as taken', async () => {
      const realNow = Date.now;
      const issuedAt = realNow();
      // The store reads the clock when it takes; frozen, so the take and the issue share a millisecond.
      Date.now = () => issuedAt;
      try {
        assert.deepEqual(await store.take('O7'), { duplicate: false, late: false });
        await store.put({ ...rec('O7'), issuedAt }, issuedAt + 60_000);
      } finally {
        Date.now = realNow;
      }
      assert.equal(await store.size(), 0, 'not waiting for a callback that already came (it would be reported stalled: the flow counted twice)');
      assert.equal((await store.take('O7')).duplicate, true);
    });

    it('two copies of a notification taken at once before the write landed: exactly one is no duplicate', async () => {
      const takes = await Promise.all([store.take('O5'), store.take('O5'), store.take('O5')]);
      assert.deepEqual(takes.map((t) => t.duplicate).sort(), [false, true, true]);
      await store.put(rec('O5'), Date.now() + 60_000);
      assert.equal(await store.size(), 0);
    });

    it('a callback taken while a sweeper holds the flow, before that sweeper exported anything, leaves the flow to be swept: its stalled span is still emitted once', async () => {
      const now = Date.now();
      await store.put(rec('D1'), now - 1);
      assert.equal((await store.claimExpired(now, 10, 1000)).length, 1);
      // The claimer dies before its export; the final notification comes while the lease runs.
      assert.deepEqual(await store.take('D1'), { record: rec('D1'), duplicate: false, late: true });
      assert.deepEqual(await store.take('D1'), { record: rec('D1'), duplicate: true, late: true }, 'a retry of it is a duplicate');
      // Late callbacks are left out of the counts, so the flow counts only if its stalled span comes out.
      const again = await store.claimExpired(now + 1000, 10, 1000);
      assert.deepEqual(again.map((c) => [c.record.tradeNo, c.claims, c.emitted]), [['D1', 2, false]]);
      await store.markEmitted!(['D1'], [rec('D1').spanId]);
      await store.ack(['D1'], [rec('D1').spanId]);
      assert.equal(await store.size(), 0);
      assert.deepEqual(await store.take('D1'), { record: rec('D1'), duplicate: true, late: true });
      // Once the claimer's export is marked, a callback ends nothing more: the flow goes, and is not claimed again.
      await store.put(rec('D2'), now - 1);
      await store.claimExpired(now, 10, 1000);
      await store.markEmitted!(['D2']);
      assert.deepEqual(await store.take('D2'), { record: rec('D2'), duplicate: false, late: true });
      assert.deepEqual(await store.claimExpired(now + 1000, 10, 1000), []);
    });

    it('a deadline of exactly now is due, one a millisecond later is not; a lease ending exactly now is claimable again', async () => {
      const now = Date.now();
      await store.put(rec('X0'), now);
      await store.put(rec('X1'), now + 1);
      assert.deepEqual((await store.claimExpired(now, 10, 500)).map((c) => c.record.tradeNo), ['X0']);
      assert.deepEqual((await store.claimExpired(now + 499, 10, 1000)).map((c) => c.record.tradeNo), ['X1'], 'X0 is leased until now + 500');
      assert.deepEqual((await store.claimExpired(now + 500, 10, 1000)).map((c) => [c.record.tradeNo, c.claims]), [['X0', 2]]);
    });

    it('takeBySpan takes the flow a token names, by its trace and span id, as take does: once, then duplicates, late after a claim', async () => {
      const now = Date.now();
      assert.equal(typeof store.takeBySpan, 'function', 'the built-in stores find a flow by its span');
      const a = { ...rec('B1', '0000000000000b01'), release: 'web-2026.12.2', cohort: 'canary' };
      await store.put(a, now + 60_000);
      assert.deepEqual(await store.takeBySpan!(a.traceId, a.spanId), { record: a, duplicate: false, late: false });
      assert.equal(await store.size(), 0, 'taken');
      assert.deepEqual(await store.takeBySpan!(a.traceId, a.spanId), { record: a, duplicate: true, late: false });
      assert.deepEqual(await store.take('B1'), { record: a, duplicate: true, late: false }, 'one tombstone for both ways in');
      // Taken by trade number first: the token's copy is the duplicate.
      const b = rec('B2', '0000000000000b02');
      await store.put(b, now + 60_000);
      await store.take('B2');
      assert.deepEqual(await store.takeBySpan!(b.traceId, b.spanId), { record: b, duplicate: true, late: false });
      // Claimed by a sweeper: late, left for the sweeper's ack; declared stalled: late.
      const c = rec('B3', '0000000000000b03');
      await store.put(c, now - 1);
      await store.claimExpired(now, 10, 60_000);
      assert.deepEqual(await store.takeBySpan!(c.traceId, c.spanId), { record: c, duplicate: false, late: true });
      await store.ack(['B3']);
      assert.deepEqual(await store.takeBySpan!(c.traceId, c.spanId), { record: c, duplicate: true, late: true });
      assert.equal(await store.size(), 0);
    });

    it('takeBySpan never takes another flow: not one of another trace with the same span id, nor a new flow under the same trade number', async () => {
      const now = Date.now();
      const a = rec('X1', '0000000000000c01');
      await store.put(a, now + 60_000);
      assert.deepEqual(await store.takeBySpan!('00000000000000000000000000000abc', a.spanId), { duplicate: false, late: false });
      assert.deepEqual(await store.keepWaitingBySpan!('00000000000000000000000000000abc', a.spanId, now), { duplicate: false, late: false, waiting: false });
      assert.equal(await store.size(), 1, 'still waiting for its own callback');
      // Paid again under the trade number: the first payment's token names a flow that is gone.
      const b = rec('X1', '0000000000000c02');
      await store.put(b, now + 60_000);
      assert.deepEqual(await store.takeBySpan!(a.traceId, a.spanId), { duplicate: false, late: false });
      assert.deepEqual(await store.keepWaitingBySpan!(a.traceId, a.spanId, now), { duplicate: false, late: false, waiting: false });
      assert.equal(await store.size(), 1, 'the new flow still waits');
      assert.deepEqual(await store.takeBySpan!(b.traceId, b.spanId), { record: b, duplicate: false, late: false });
      // Its tombstone is the new flow's, not the first one's.
      assert.deepEqual(await store.takeBySpan!(a.traceId, a.spanId), { duplicate: true, late: false }, 'a retry of the unknown take');
      assert.equal((await store.take('X1')).record?.spanId, b.spanId);
      // A first flow taken, then a new one under the trade number: the old token ends nothing.
      const c = rec('X2', '0000000000000c03');
      await store.put(c, now + 60_000);
      await store.takeBySpan!(c.traceId, c.spanId);
      const d = rec('X2', '0000000000000c04');
      await store.put(d, now + 60_000);
      assert.equal((await store.takeBySpan!(c.traceId, c.spanId)).record, undefined);
      assert.equal(await store.size(), 1);
      assert.deepEqual(await store.take('X2'), { record: d, duplicate: false, late: false });
    });

    it('keepWaitingBySpan keeps the flow a token names waiting, as keepWaiting does; the final take by span then ends it', async () => {
      const now = Date.now();
      assert.equal(typeof store.keepWaitingBySpan, 'function');
      const a = { ...rec('K5', '0000000000000d01'), issuedAt: now };
      await store.put(a, now + 60_000);
      assert.deepEqual(await store.keepWaitingBySpan!(a.traceId, a.spanId, now + 30_000, 'WAIT_BUYER_PAY'), { record: a, duplicate: false, late: false, waiting: true });
      assert.deepEqual(await store.claimExpired(now + 89_999, 10, 1000), [], 'due again 60 s after the pending notification');
      // (What a take returns of the last status is the store's own: the stalled span reads it from the claim.)
      const final = await store.takeBySpan!(a.traceId, a.spanId);
      assert.deepEqual([final.record?.spanId, final.duplicate, final.late], [a.spanId, false, false]);
      assert.equal(await store.size(), 0);
      const copy = await store.keepWaitingBySpan!(a.traceId, a.spanId, now);
      assert.deepEqual([copy.record?.spanId, copy.duplicate, copy.late, copy.waiting], [a.spanId, true, false, false]);
      // Unknown: nothing, and nothing remembered (a pending notification is no flow's end).
      const b = { ...rec('K6', '0000000000000d02'), issuedAt: now };
      assert.deepEqual(await store.keepWaitingBySpan!(b.traceId, b.spanId, now), { duplicate: false, late: false, waiting: false });
      await store.put(b, now + 60_000);
      assert.equal(await store.size(), 1);
      const [claimed] = await store.claimExpired(now + 60_000, 10, 1000);
      assert.equal(claimed.record.spanId, b.spanId);
      assert.deepEqual(await store.keepWaitingBySpan!(b.traceId, b.spanId, now), { record: b, duplicate: false, late: true, waiting: false }, 'claimed: late, left alone');
    });

    it('a put that lands after a takeBySpan of its own span found nothing records the flow as taken, whenever it was issued', async () => {
      const now = Date.now();
      const a = { ...rec('Y1', '0000000000000e01'), issuedAt: now + 60_000 };
      // Two copies before the write landed: one of them ends the flow, the other is a duplicate.
      assert.deepEqual(await store.takeBySpan!(a.traceId, a.spanId), { duplicate: false, late: false });
      assert.deepEqual(await store.takeBySpan!(a.traceId, a.spanId), { duplicate: true, late: false });
      await store.put(a, now + 120_000);
      assert.equal(await store.size(), 0, 'never waits for the callback that already came');
      assert.deepEqual(await store.claimExpired(now + 10 * 86_400_000, 10, 1000), []);
      assert.deepEqual(await store.takeBySpan!(a.traceId, a.spanId), { record: a, duplicate: true, late: false });
      assert.deepEqual(await store.take('Y1'), { record: a, duplicate: true, late: false });
      // A take by the same span id in another trace is not this flow's.
      const b = rec('Y2', '0000000000000e02');
      await store.takeBySpan!('00000000000000000000000000000abc', b.spanId);
      await store.put(b, now + 60_000);
      assert.equal(await store.size(), 1);
      assert.deepEqual(await store.takeBySpan!(b.traceId, b.spanId), { record: b, duplicate: false, late: false });
    });

    it('peekBySpan reads the flow a token names, live or in its tombstone, of that trace only, and changes nothing', async () => {
      const now = Date.now();
      assert.equal(typeof store.peekBySpan, 'function', 'the built-in stores read a flow by its span');
      const a = { ...rec('P1', '0000000000000f01'), release: 'api-1.4.0', cohort: 'canary', issuedAt: now - 2_500 };
      await store.put(a, now + 60_000);
      assert.deepEqual(await store.peekBySpan!(a.traceId, a.spanId), a);
      assert.deepEqual(await store.peekBySpan!(a.traceId, a.spanId), a, 'read again: nothing was taken');
      assert.equal(await store.size(), 1);
      assert.deepEqual(await store.peekBySpan!('00000000000000000000000000000abc', a.spanId), undefined, 'another trace with the same span id');
      // Its last status comes with a live flow, as a claim returns it.
      await store.keepWaiting!('P1', now, 'WAIT_BUYER_PAY');
      assert.equal((await store.peekBySpan!(a.traceId, a.spanId))?.lastStatus, 'WAIT_BUYER_PAY');
      // Its first take is no duplicate, nor late; then the tombstone is read as the flow.
      // (Whether a take's record, or the tombstone's, keeps the last status is the store's own.)
      const taken = await store.takeBySpan!(a.traceId, a.spanId);
      assert.deepEqual([taken.record?.spanId, taken.duplicate, taken.late], [a.spanId, false, false]);
      const { lastStatus: _, ...tombstone } = (await store.peekBySpan!(a.traceId, a.spanId)) ?? { lastStatus: undefined };
      assert.deepEqual(tombstone, a);
      const copy = await store.take('P1');
      assert.deepEqual([copy.record?.spanId, copy.duplicate, copy.late], [a.spanId, true, false]);
      // A claimed flow stays claimed: its take is late, as without the read.
      const b = rec('P2', '0000000000000f02');
      await store.put(b, now - 1);
      await store.claimExpired(now, 10, 60_000);
      assert.deepEqual(await store.peekBySpan!(b.traceId, b.spanId), b);
      assert.deepEqual(await store.take('P2'), { record: b, duplicate: false, late: true });
      // Unknown: nothing, and nothing remembered: the put that lands after it waits.
      const c = rec('P3', '0000000000000f03');
      assert.equal(await store.peekBySpan!(c.traceId, c.spanId), undefined);
      await store.put(c, now + 60_000);
      assert.deepEqual(await store.takeBySpan!(c.traceId, c.spanId), { record: c, duplicate: false, late: false });
      // A new flow under the trade number: the old token reads nothing.
      const d = rec('P3', '0000000000000f04');
      await store.put(d, now + 60_000);
      assert.equal(await store.peekBySpan!(c.traceId, c.spanId), undefined);
      assert.deepEqual(await store.peekBySpan!(d.traceId, d.spanId), d);
    });

    it('claims respect the limit and hand out the oldest deadlines first', async () => {
      const now = Date.now();
      for (let i = 0; i < 25; i++) await store.put(rec(`L${i}`), now - 100 + i);
      const claimed = await store.claimExpired(now, 10, 60_000);
      assert.deepEqual(claimed.map((c) => c.record.tradeNo), Array.from({ length: 10 }, (_, i) => `L${i}`));
      assert.equal((await store.claimExpired(now, 100, 60_000)).length, 15);
    });
  });
}
