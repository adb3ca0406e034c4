import assert from 'node:assert/strict';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import fc from 'fast-check';
import { startRedisServer } from '@otel-checkout/test-support';
import type { StartedRedisServer } from '@otel-checkout/test-support';
import { MemoryFlowStore, RedisFlowStore, StalledSweeper } from '../../src/index.js';
import type { CallbackOptions, FlowStore, Flows } from '../../src/index.js';
import { HealthCounters } from '../../src/health.js';
import { Harness } from './harness.js';

const TABLE = { PAID: 'succeeded', DECLINED: 'failed', WAIT_BUYER_PAY: 'pending' } as const;
const LEASE_MS = 60_000;
const HOUR = 3600_000;

/** What the collector counts as a flow's end (the `payment.flows` conditions), for callback and stalled spans. */
function countsAsEnd(span: ReadableSpan): boolean {
  const a = span.attributes;
  if (a['payment.stage'] === 'callback') {
    return a['payment.outcome'] !== 'pending' && a['payment.failure.reason'] !== 'unmapped_status' && a['payment.callback.duplicate'] !== true && a['payment.callback.late'] !== true;
  }
  return a['payment.stage'] === 'stalled' && a['payment.stalled.repeat'] !== true;
}

/**
 * One thing that happens to a flow, on one replica. Events of one round run at the same time.
 * `final`/`pending`/`unmapped`: a provider notification; `copies`: the same final notification on
 * two replicas at once; `sweep`: every replica's sweeper sweeps at once, with its clock past every
 * deadline and every earlier lease; `dies-before-export`: a sweeper claims the due flows and dies;
 * `dies-after-export`: one that claims, exports and records the export, then dies before its ack.
 */
type Event =
  | { kind: 'final' | 'pending' | 'unmapped' | 'copies'; flow: number; replica: number }
  | { kind: 'sweep' | 'dies-before-export' | 'dies-after-export'; replica: number };

const REPLICAS = 3;
const eventArb = (flows: number): fc.Arbitrary<Event> =>
  fc.oneof(
    fc.record({ kind: fc.constantFrom('final' as const, 'pending' as const, 'unmapped' as const, 'copies' as const), flow: fc.nat(flows - 1), replica: fc.nat(REPLICAS - 1) }),
    fc.record({ kind: fc.constantFrom('sweep' as const, 'dies-before-export' as const, 'dies-after-export' as const), replica: fc.nat(REPLICAS - 1) }),
  );
// `byToken[i]`: flow i's provider sends its notifications with the flow's token and no trade number
// (only the pass-back field), as some providers do; a provider's notifications all have one format.
const scenarioArb = fc.integer({ min: 1, max: 4 }).chain((flows) =>
  fc.record({
    flows: fc.constant(flows),
    recordedFirst: fc.boolean(),
    byToken: fc.array(fc.boolean(), { minLength: flows, maxLength: flows }),
    rounds: fc.array(fc.array(eventArb(flows), { minLength: 1, maxLength: 4 }), { minLength: 1, maxLength: 5 }),
  }),
);

/**
 * Replicas (each its own Flows and sweeper on its own store client) share one store; random rounds
 * of notifications and sweeps race; a last sweep after every deadline and lease drains what is
 * left. Every flow must then have exactly one span that the collector counts as its end.
 */
function replicaRaces(name: string, makeStore: (run: number) => FlowStore, numRuns: number): void {
  it(`${name}: every flow ends exactly once, whatever races between replicas' callbacks and sweepers`, async () => {
    const harness = new Harness();
    harness.install();
    let run = 0;
    try {
      await fc.assert(
        fc.asyncProperty(scenarioArb, async ({ flows: flowCount, recordedFirst, byToken, rounds }) => {
          harness.reset();
          const r = run++;
          const replicas: Flows[] = [];
          const stores: FlowStore[] = [];
          for (let i = 0; i < REPLICAS; i++) {
            const store = makeStore(r);
            stores.push(store);
            replicas.push(harness.flows({ store, sweeper: false }).flows);
          }
          let clock = Date.now() + HOUR;
          const sweeperOf = (replica: number): StalledSweeper =>
            new StalledSweeper({ batchSize: 2, leaseMs: LEASE_MS }, { store: stores[replica], tracer: harness.tracer, health: new HealthCounters(), now: () => clock, flush: () => Promise.resolve() });
          try {
            const tradeNos = Array.from({ length: flowCount }, (_, i) => `R${r}-${i}`);
            const created = tradeNos.map((tradeNo) => harness.createFlow(tradeNo));
            const notifyUrls = created.map((flow, i) => replicas[i % REPLICAS].notifyUrl(flow, 'http://shop/notify'));
            // Or not: the first notifications then race the flows' own writes (the request never awaits them).
            if (recordedFirst) await Promise.all(replicas.map((flows) => flows.whenRecorded()));

            const notify = async (replica: number, flow: number, status: string): Promise<void> => {
              const options: CallbackOptions = { tradeNo: (_q, fields) => fields?.trade_no as string, status: (_q, fields) => fields?.status as string, statusTable: TABLE };
              const url = new URL(notifyUrls[flow]);
              const body = byToken[flow] ? { status } : { trade_no: tradeNos[flow], status };
              const scope = await replicas[replica].beginCallback({ method: 'POST', url: `${url.pathname}${url.search}`, headers: {}, body }, options);
              scope.end(200);
            };
            const sweep = async (replica: number): Promise<void> => {
              await sweeperOf(replica).sweepOnce();
            };
            const run1 = async (event: Event): Promise<void> => {
              switch (event.kind) {
                case 'final':
                  return notify(event.replica, event.flow, 'PAID');
                case 'pending':
                  return notify(event.replica, event.flow, 'WAIT_BUYER_PAY');
                case 'unmapped':
                  return notify(event.replica, event.flow, 'RISK_REVIEW');
                case 'copies':
                  await Promise.all([notify(event.replica, event.flow, 'DECLINED'), notify((event.replica + 1) % REPLICAS, event.flow, 'DECLINED')]);
                  return;
                case 'sweep':
                  await Promise.all(stores.map((_s, replica) => sweep(replica)));
                  return;
                case 'dies-before-export':
                  // Claimed, and nothing more: its spans never left the process.
                  await stores[event.replica].claimExpired(clock, 100, LEASE_MS);
                  return;
                case 'dies-after-export': {
                  // Its spans were exported and the export recorded; the ack never came.
                  const store = stores[event.replica];
                  const claimed = await store.claimExpired(clock, 100, LEASE_MS);
                  const sweeper = new StalledSweeper({ batchSize: 100, leaseMs: LEASE_MS }, {
                    store: {
                      ...pick(store),
                      claimExpired: (() => {
                        let first = true;
                        return () => Promise.resolve(first ? ((first = false), claimed) : []);
                      })(),
                      ack: () => Promise.reject(new Error('died before the ack')),
                    },
                    tracer: harness.tracer,
                    health: new HealthCounters(),
                    now: () => clock,
                    flush: () => Promise.resolve(),
                  });
                  await sweeper.sweepOnce().catch(() => undefined);
                  return;
                }
              }
            };
            for (const round of rounds) {
              await Promise.all(round.map(run1));
              // The next round's sweepers see every lease of this one lapsed.
              clock += 2 * LEASE_MS;
            }
            // Drain: what is still live after every deadline is reported stalled.
            await Promise.all(stores.map((_s, replica) => sweep(replica)));
            clock += 2 * LEASE_MS;
            await Promise.all(stores.map((_s, replica) => sweep(replica)));

            const spans = harness.exporter.getFinishedSpans().filter((s) => s.attributes['payment.stage'] === 'callback' || s.attributes['payment.stage'] === 'stalled');
            for (const [i, tradeNo] of tradeNos.entries()) {
              // By trace: a callback by token alone is in its flow's trace too, with the trade number the store gives it.
              const ofFlow = spans.filter((s) => s.spanContext().traceId === created[i].traceId);
              // (A callback that reached the store before the flow's write has no record to take it from.)
              if (byToken[i] && recordedFirst) assert.ok(ofFlow.every((s) => s.attributes['payment.trade_no'] === tradeNo), `${tradeNo}: its trade number, from the store`);
              const ends = ofFlow.filter(countsAsEnd);
              assert.equal(
                ends.length,
                1,
                `${tradeNo}${byToken[i] ? ' (by token)' : ''}: ${ofFlow
                  .map((s) => `${s.name}(${['payment.outcome', 'payment.callback.duplicate', 'payment.callback.late', 'payment.stalled.repeat'].map((k) => String(s.attributes[k] ?? '-')).join(',')})`)
                  .join(' ')}`,
              );
            }
          } finally {
            await Promise.all(replicas.map((flows) => flows.shutdown()));
          }
        }),
        { numRuns },
      );
    } finally {
      harness.uninstall();
    }
  });
}

/** The store's own methods, bound, as a plain object a test can override parts of. */
function pick(store: FlowStore): FlowStore {
  return {
    put: store.put.bind(store),
    take: store.take.bind(store),
    keepWaiting: store.keepWaiting?.bind(store),
    claimExpired: store.claimExpired.bind(store),
    markEmitted: store.markEmitted?.bind(store),
    ack: store.ack.bind(store),
    size: store.size.bind(store),
    close: () => Promise.resolve(),
  };
}

describe('replicas racing on one flow store (property)', function () {
  this.timeout(120_000);

  describe('one MemoryFlowStore shared by concurrent async callers in one process', () => {
    let shared: MemoryFlowStore;
    replicaRaces(
      'MemoryFlowStore',
      () => {
        shared ??= new MemoryFlowStore();
        // Shutting one replica down must not close the store under the others: close is a no-op here anyway.
        return shared;
      },
      300,
    );
  });

  describe('RedisFlowStore, a client per replica (real redis-server)', () => {
    let redis: StartedRedisServer;
    before(async () => {
      redis = await startRedisServer();
    });
    after(async () => {
      await redis?.stop();
    });
    replicaRaces('RedisFlowStore', (run) => new RedisFlowStore({ url: redis.url, keyPrefix: `race${run}:{flows}:` }), 100);
  });
});
