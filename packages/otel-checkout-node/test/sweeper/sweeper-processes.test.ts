import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createClient } from 'redis';
import { startOtlpReceiver, startRedisServer } from '@otel-checkout/test-support';
import type { OtlpReceiver, ReceivedSpan, StartedRedisServer } from '@otel-checkout/test-support';
import { RedisFlowStore } from '../../src/index.js';

const CHILD = join(import.meta.dirname, 'fixtures', 'sweeper-process.ts');
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

function spawnSweeper(args: string[]): ChildProcess {
  return fork(CHILD, args, {
    execArgv: ['--conditions=@otel-checkout/source', '--import=tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

function message<T>(child: ChildProcess, key: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: Record<string, unknown>) => {
      if (key in m) {
        child.off('message', onMessage);
        resolve(m as T);
      }
    };
    child.on('message', onMessage);
    child.once('exit', (code) => reject(new Error(`sweeper exited (${code}) before sending "${key}"`)));
  });
}

function exited(child: ChildProcess): Promise<void> {
  return child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve()));
}

/** Puts `count` flows whose deadline has passed, pipelined over one connection. */
async function putExpired(url: string, prefix: string, count: number, tag: string): Promise<void> {
  const client = createClient({ url });
  await client.connect();
  const store = new RedisFlowStore({ client, keyPrefix: prefix, commandTimeoutMs: 10_000 });
  const past = Date.now() - 1000;
  for (let i = 0; i < count; i += 1000) {
    await Promise.all(
      Array.from({ length: Math.min(1000, count - i) }, (_, j) =>
        store.put(
          { traceId: TRACE_ID, spanId: (i + j + 1).toString(16).padStart(16, '0'), traceFlags: 1, tradeNo: `${tag}-${i + j}`, provider: 'acme', issuedAt: past - 60_000 },
          past,
        ),
      ),
    );
  }
  client.destroy();
}

const isStalled = (s: ReceivedSpan) => s.name === 'payment.callback.stalled';

describe('stalled sweeper processes sharing one Redis', function () {
  this.timeout(120_000);
  let redis: StartedRedisServer;
  let receiver: OtlpReceiver;
  const children: ChildProcess[] = [];

  before(async () => {
    [redis, receiver] = await Promise.all([startRedisServer(), startOtlpReceiver()]);
  });
  afterEach(async () => {
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited(child);
    }
    receiver.clear();
  });
  after(async () => {
    await Promise.all([redis?.stop(), receiver?.close()]);
  });

  it('three sweepers emit exactly one stalled span per flow for 10,000 flows, into each flow\'s trace', async () => {
    await putExpired(redis.url, 'three:{flows}:', 10_000, 'T');
    const results = Promise.all(
      [0, 1, 2].map(() => {
        const child = spawnSweeper([redis.url, receiver.tracesUrl, 'three:{flows}:', 'drain', '500', '60000']);
        children.push(child);
        return message<{ emitted: number }>(child, 'emitted');
      }),
    );
    const spans = await receiver.waitForSpans(isStalled, { count: 10_000, timeoutMs: 60_000 });
    const reports = await results;
    await Promise.all(children.map(exited));
    const all = receiver.spans.filter(isStalled);
    assert.equal(all.length, 10_000, 'no duplicates after every sweeper finished');
    assert.equal(new Set(all.map((s) => s.attributes['payment.trade_no'])).size, 10_000);
    assert.equal(reports.reduce((sum, r) => sum + r.emitted, 0), 10_000);
    assert.ok(reports.filter((r) => r.emitted > 0).length >= 2, `work was shared: ${reports.map((r) => r.emitted).join(', ')}`);
    const one = spans.find((s) => s.attributes['payment.trade_no'] === 'T-41')!;
    assert.equal(one.traceId, TRACE_ID);
    assert.equal(one.parentSpanId, (42).toString(16).padStart(16, '0'), 'parent: the flow\'s payment.create span');
    assert.equal(one.kindName, 'INTERNAL');
    assert.equal(one.status.codeName, 'ERROR');
    assert.equal(one.attributes['payment.outcome'], 'stalled');
    assert.equal(one.attributes['payment.stage'], 'stalled');
    assert.equal(one.attributes['payment.provider'], 'acme');
    assert.equal(one.attributes['payment.stalled.repeat'], undefined);
    assert.ok(one.startTimeUnixNano < one.endTimeUnixNano - 60_000_000_000n, 'starts at redirect issued, a minute before the deadline');
  });

  /**
   * Puts `count` expired flows, lets a sweeper claim a batch of 100 and kills it at the point
   * `mode` names, then starts a sweeper that goes on; resolves with what the killed one claimed.
   */
  async function killMidBatchThenSweep(prefix: string, count: number, tag: string, mode: 'die-before-export' | 'die-after-claim'): Promise<{ claimed: string[]; survivor: ChildProcess }> {
    await putExpired(redis.url, prefix, count, tag);
    const doomed = spawnSweeper([redis.url, receiver.tracesUrl, prefix, mode, '100', '1000']);
    children.push(doomed);
    const { claimed } = await message<{ claimed: string[] }>(doomed, 'claimed');
    doomed.kill('SIGKILL');
    await exited(doomed);
    const survivor = spawnSweeper([redis.url, receiver.tracesUrl, prefix, 'loop', '100', '1000']);
    children.push(survivor);
    await message(survivor, 'ready');
    return { claimed, survivor };
  }

  it('a sweeper killed before its spans were exported: another emits its flows, not as repeats, so they count', async () => {
    const { claimed, survivor } = await killMidBatchThenSweep('lost:{flows}:', 150, 'L', 'die-before-export');
    assert.equal(claimed.length, 100);
    const isLost = (s: ReceivedSpan): boolean => isStalled(s) && /^L-/.test(s.attributes['payment.trade_no'] as string);
    await receiver.waitForSpans(isLost, { count: 150, timeoutMs: 20_000 });
    survivor.kill('SIGTERM');
    await exited(survivor);

    const lost = receiver.spans.filter(isLost);
    assert.equal(new Set(lost.map((s) => s.attributes['payment.trade_no'])).size, 150, 'every flow emitted');
    assert.equal(lost.length, 150, 'each once: the killed sweeper exported none');
    assert.deepEqual(lost.filter((s) => s.attributes['payment.stalled.repeat'] !== undefined), [], 'none is a repeat: the only span of each counts');
    const store = new RedisFlowStore({ url: redis.url, keyPrefix: 'lost:{flows}:' });
    assert.equal(await store.size(), 0, 'all acknowledged');
    await store.close();
  });

  it('a sweeper killed between export and acknowledgement loses nothing: another emits its flows, marked as repeats', async () => {
    const { claimed, survivor } = await killMidBatchThenSweep('kill:{flows}:', 300, 'K', 'die-after-claim');
    assert.equal(claimed.length, 100);
    const repeated = await receiver.waitForSpans((s) => isStalled(s) && s.attributes['payment.stalled.repeat'] === true, { count: 100, timeoutMs: 20_000 });
    await receiver.waitForSpans((s) => isStalled(s) && s.attributes['payment.trade_no'] !== undefined && s.attributes['payment.stalled.repeat'] === undefined, { count: 300, timeoutMs: 20_000 });
    survivor.kill('SIGTERM');
    await exited(survivor);

    assert.deepEqual(repeated.map((s) => s.attributes['payment.trade_no']).sort(), [...claimed].sort());
    const byTrade = new Map<string, ReceivedSpan[]>();
    for (const s of receiver.spans.filter(isStalled)) {
      const key = s.attributes['payment.trade_no'] as string;
      byTrade.set(key, [...(byTrade.get(key) ?? []), s]);
    }
    assert.equal(byTrade.size, 300, 'every flow emitted');
    for (const tradeNo of claimed) assert.equal(byTrade.get(tradeNo)!.length, 2, `${tradeNo}: once by the killed sweeper, once repeated`);
    const store = new RedisFlowStore({ url: redis.url, keyPrefix: 'kill:{flows}:' });
    assert.equal(await store.size(), 0, 'all acknowledged');
    await store.close();
  });
});
