import assert from 'node:assert/strict';
import { createClient } from 'redis';
import { FlowStoreError, RedisFlowStore } from '../../src/index.js';
import type { Flows, RedisCommandClient } from '../../src/index.js';
import { Harness } from '../callback/harness.js';
import { startRestartableRedis } from './restartable-redis.js';
import type { RestartableRedis, RestartableRedisOptions } from './restartable-redis.js';
import { captureWarnings } from '../support/capture-warnings.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const POLICY_WARNING = /Redis flow store: Redis runs with maxmemory-policy/;
const RESET_AFTER_RECONNECT = /Redis flow store: Redis came back from a reconnect without the flows it held/;
const RESET_WHILE_CONNECTED = /Redis flow store: Redis lost the flows it held while the store was connected/;

/**
 * `operation`, tried again until it resolves once the store's Redis is back: its client reconnects
 * on its own, with a backoff of at most 2 s, and says nothing a test could await; until then each
 * try fails at once ("offline") or within its bound.
 */
async function onceBack(operation: () => Promise<unknown>): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await operation();
      return;
    } catch (error) {
      if (attempt >= 200) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}

/** Resolves once the store answers again after its Redis went away, and the check it makes of Redis after the reconnect is done. */
async function reconnected(store: RedisFlowStore): Promise<void> {
  await onceBack(() => store.size());
  await store.ready();
}

/** Lets the store look at Redis on a connection that stayed up, as each sweep does, and waits for that look. */
async function sweepLook(store: RedisFlowStore): Promise<void> {
  await store.claimExpired(Date.now(), 10, 60_000);
  await store.ready();
}

describe('RedisFlowStore checks the Redis behind it (real redis-server)', function () {
  this.timeout(30_000);
  let servers: RestartableRedis[] = [];
  let stores: RedisFlowStore[] = [];
  let clients: ReturnType<typeof createClient>[] = [];
  let logs: ReturnType<typeof captureWarnings>;
  let prefixSeq = 0;

  beforeEach(() => {
    logs = captureWarnings();
  });
  afterEach(async () => {
    logs.restore();
    await Promise.all(stores.map((store) => store.close()));
    for (const client of clients) client.destroy();
    await Promise.all(servers.map((server) => server.close()));
    stores = [];
    clients = [];
    servers = [];
  });

  const server = async (options: RestartableRedisOptions): Promise<RestartableRedis> => {
    const started = await startRestartableRedis(options);
    servers.push(started);
    return started;
  };
  const store = (url: string, prefix = `check${prefixSeq++}:{flows}:`): RedisFlowStore => {
    const made = new RedisFlowStore({ url, keyPrefix: prefix, commandTimeoutMs: 500, connectTimeoutMs: 2000 });
    stores.push(made);
    return made;
  };
  const admin = async (url: string): Promise<ReturnType<typeof createClient>> => {
    const client = createClient({ url });
    // It goes through the restarts too.
    client.on('error', () => undefined);
    await client.connect();
    clients.push(client);
    return client;
  };
  const record = (tradeNo: string, issuedAt = Date.now()) => ({ traceId: TRACE_ID, spanId: 'a1b2c3d4e5f60718', traceFlags: 1, tradeNo, issuedAt });
  const works = async (s: RedisFlowStore): Promise<void> => {
    await s.put(record('WORKS'), Date.now() + 60_000);
    assert.equal((await s.take('WORKS')).record?.tradeNo, 'WORKS');
  };

  describe('the eviction policy', () => {
    it('other than noeviction: said once per store, after each reconnect too, naming the policy and what to set', async () => {
      const redis = await server({ persistence: false, args: ['--maxmemory-policy', 'allkeys-lru'] });
      const first = store(redis.url);
      await first.ready();
      const said = (): string[] => logs.warnings.filter((w) => POLICY_WARNING.test(w));
      assert.equal(said().length, 1, logs.warnings.join('\n'));
      assert.match(said()[0], /maxmemory-policy allkeys-lru, so it may evict flows waiting for their callback.*; set maxmemory-policy noeviction$/);

      // Its connection dropped by the server: the store checks again after the reconnect, and says nothing new.
      const control = await admin(redis.url);
      await control.sendCommand(['CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes']);
      await reconnected(first);
      assert.equal(said().length, 1, 'once per store');
      await works(first);

      // Another store (another replica's) says it for itself.
      await store(redis.url).ready();
      assert.equal(said().length, 2);
    });

    it('noeviction: nothing said', async () => {
      const redis = await server({ persistence: false });
      const s = store(redis.url);
      await s.ready();
      await works(s);
      assert.deepEqual(logs.warnings, []);
    });

    it('with CONFIG disabled (as on many managed services) it is read from INFO', async () => {
      const redis = await server({ persistence: false, args: ['--rename-command', 'CONFIG', '', '--maxmemory-policy', 'volatile-lru'] });
      const s = store(redis.url);
      await s.ready();
      assert.deepEqual(
        logs.warnings.filter((w) => POLICY_WARNING.test(w)).map((w) => /maxmemory-policy (\S+),/.exec(w)?.[1]),
        ['volatile-lru'],
        logs.warnings.join('\n'),
      );
      await works(s);
    });

    it('with CONFIG and INFO disabled, nothing is said and the store works', async () => {
      const redis = await server({ persistence: false, args: ['--rename-command', 'CONFIG', '', '--rename-command', 'INFO', '', '--maxmemory-policy', 'allkeys-lru'] });
      const s = store(redis.url);
      await s.ready();
      await works(s);
      assert.deepEqual(logs.warnings, []);
    });
  });

  describe('ready() after an outage, as a readiness probe', () => {
    it('rejects while Redis is away, bounded by connectTimeoutMs, and resolves once it is back', async () => {
      const redis = await server({ persistence: false });
      const s = new RedisFlowStore({ url: redis.url, keyPrefix: `probe${prefixSeq++}:{flows}:`, commandTimeoutMs: 300, connectTimeoutMs: 500 });
      stores.push(s);
      await s.ready();
      await redis.stop();
      // The store notices the outage at its next operation.
      await assert.rejects(s.size(), FlowStoreError);
      assert.equal(s.health().available, false);
      await assert.rejects(s.ready(), FlowStoreError);
      assert.equal(s.health().available, false, 'still away');
      await redis.start();
      // Probed as a readiness check would, until Redis answers.
      await onceBack(() => s.ready());
      assert.equal(s.health().available, true);
    });
  });

  describe('a lost data set', () => {
    const harness = new Harness();
    const running: Flows[] = [];
    before(() => harness.install());
    after(() => harness.uninstall());
    afterEach(async () => {
      harness.reset();
      await Promise.all(running.splice(0).map((flows) => flows.shutdown()));
    });

    const counted = (s: RedisFlowStore) => {
      const { flows, health } = harness.flows({ store: s, sweeper: false });
      running.push(flows);
      return { flows, resets: () => health.get('flowStoreResets'), health };
    };

    it('a Redis restarted without persistence: one reset per store after the reconnect, said once per store; the replicas agree on one new marker', async () => {
      const redis = await server({ persistence: false });
      const prefix = `restart${prefixSeq++}:{flows}:`;
      const a = store(redis.url, prefix);
      const b = store(redis.url, prefix);
      await Promise.all([a.ready(), b.ready()]);
      const { flows, resets, health } = counted(a);
      let resetsOfB = 0;
      b.addResetListener(() => resetsOfB++);
      const flow = harness.createFlow('LOST-1');
      const notifyUrl = flows.notifyUrl(flow, 'http://shop/notify');
      await flows.whenRecorded();
      assert.equal(await a.size(), 1);

      await redis.stop();
      await redis.start();
      await Promise.all([reconnected(a), reconnected(b)]);
      assert.equal(resets(), 1, 'counted in flowStoreResets');
      assert.equal(resetsOfB, 1, 'and by the other replica, for itself');
      assert.equal(await a.size(), 0, 'the waiting flow is gone');
      const said = logs.warnings.filter((w) => RESET_AFTER_RECONNECT.test(w));
      assert.equal(said.length, 2, `one line per store:\n${logs.warnings.join('\n')}`);
      assert.match(said[0], /flows that were waiting for their callback then will not be reported stalled \(their callbacks still join their traces by the flow token\); run Redis with appendonly yes/);

      // The marker is written again, once, without TTL: both replicas keep to it, and count nothing more.
      const control = await admin(redis.url);
      const marker = await control.get(`${prefix}marker`);
      assert.match(String(marker), /^[0-9a-f]{32}$/);
      assert.equal(await control.pTTL(`${prefix}marker`), -1);
      await Promise.all([sweepLook(a), sweepLook(b)]);
      assert.equal(await control.get(`${prefix}marker`), marker);
      assert.equal(resets(), 1);
      assert.equal(resetsOfB, 1);

      // The lost flow's callback still joins its trace, by its token.
      const url = new URL(notifyUrl);
      const scope = await flows.beginCallback(
        { method: 'POST', url: `${url.pathname}${url.search}`, headers: {}, body: { trade_no: 'LOST-1', status: 'PAID' } },
        { tradeNo: (_r, fields) => fields?.trade_no as string, status: (_r, fields) => fields?.status as string, statusTable: { PAID: 'succeeded' } },
      );
      scope.end(200);
      const [callback] = harness.callbacks();
      assert.equal(callback.attributes['payment.callback.correlation'], 'token_query');
      assert.equal(callback.parentSpanContext?.spanId, flow.spanId);
      assert.equal(health.get('callbacksNotInStore'), 1);

      // A second restart is counted too, and said no more.
      await redis.stop();
      await redis.start();
      await Promise.all([reconnected(a), reconnected(b)]);
      assert.equal(resets(), 2);
      assert.equal(resetsOfB, 2);
      assert.equal(logs.warnings.filter((w) => RESET_AFTER_RECONNECT.test(w)).length, 2);
    });

    it('a Redis restarted with appendonly yes keeps its flows: no reset', async () => {
      const redis = await server({ persistence: true });
      const s = store(redis.url);
      await s.ready();
      const { flows, resets } = counted(s);
      flows.notifyUrl(harness.createFlow('KEPT-1'), 'http://shop/notify');
      await flows.whenRecorded();

      await redis.stop();
      await redis.start();
      await reconnected(s);
      await sweepLook(s);
      assert.equal(resets(), 0);
      assert.equal(await s.size(), 1, 'the waiting flow is still there');
      // The outage itself is said, as always; a loss is not.
      assert.deepEqual(logs.warnings.filter((w) => RESET_AFTER_RECONNECT.test(w) || RESET_WHILE_CONNECTED.test(w)), []);
      assert.ok(logs.warnings.some((w) => /Redis flow store unavailable/.test(w)));
    });

    it('FLUSHALL, or the marker alone evicted, on a connection that stays up: noticed at the next sweep, one reset each', async () => {
      const redis = await server({ persistence: false });
      const prefix = `flush${prefixSeq++}:{flows}:`;
      const s = store(redis.url, prefix);
      await s.ready();
      const { flows, resets } = counted(s);
      flows.notifyUrl(harness.createFlow('FLUSHED-1'), 'http://shop/notify');
      await flows.whenRecorded();
      const control = await admin(redis.url);

      await control.flushAll();
      await sweepLook(s);
      assert.equal(resets(), 1);
      const said = logs.warnings.filter((w) => RESET_WHILE_CONNECTED.test(w));
      assert.equal(said.length, 1, logs.warnings.join('\n'));
      assert.match(said[0], /\(FLUSHALL or FLUSHDB, its keys evicted, or the server replaced behind a proxy\); flows that were waiting/);
      await sweepLook(s);
      assert.equal(resets(), 1, 'the marker was written again');

      // An allkeys-* policy may evict the marker as it evicts flows: a loss as well.
      await control.del(`${prefix}marker`);
      await sweepLook(s);
      assert.equal(resets(), 2);
      assert.equal(logs.warnings.filter((w) => RESET_WHILE_CONNECTED.test(w)).length, 1, 'said once');
    });

    it('a client the application manages: its reconnects are checked too, and the store stops listening when closed', async () => {
      const redis = await server({ persistence: false });
      const client = createClient({ url: redis.url });
      client.on('error', () => undefined);
      await client.connect();
      const listening = client.listenerCount('ready');
      const s = new RedisFlowStore({ client, keyPrefix: `given${prefixSeq++}:{flows}:`, commandTimeoutMs: 500, connectTimeoutMs: 2000 });
      let resets = 0;
      s.addResetListener(() => resets++);
      try {
        await s.ready();
        assert.equal(client.listenerCount('ready'), listening + 1);
        await redis.stop();
        await redis.start();
        await reconnected(s);
        assert.equal(resets, 1);
        await s.close();
        assert.equal(client.listenerCount('ready'), listening);
      } finally {
        await s.close();
        client.destroy();
      }
    });
  });

  it('checks that fail, throw or never get an answer neither fail nor hold up the store, and say nothing', async () => {
    const redis = await server({ persistence: false, args: ['--maxmemory-policy', 'allkeys-lru'] });
    const real = createClient({ url: redis.url });
    await real.connect();
    // The store's own scripts go as EVALSHA, and as EVAL once Redis does not know them yet.
    const checks = (args: string[]): boolean => args[0] === 'CONFIG' || args[0] === 'INFO' || (args[0] === 'EVAL' && String(args[3]).endsWith(':marker'));
    const throwing: RedisCommandClient = {
      sendCommand: (args) => {
        if (checks(args)) throw new Error('refused by the client');
        return real.sendCommand(args);
      },
    };
    const silent: RedisCommandClient = {
      sendCommand: (args) => (checks(args) ? new Promise<never>(() => undefined) : real.sendCommand(args)),
    };
    try {
      for (const client of [throwing, silent]) {
        const s = new RedisFlowStore({ client, keyPrefix: `failing${prefixSeq++}:{flows}:`, connectTimeoutMs: 200 });
        const started = Date.now();
        await works(s);
        assert.deepEqual(await s.claimExpired(Date.now(), 10, 60_000), []);
        await s.ready();
        assert.ok(Date.now() - started < 1000, `bounded (${Date.now() - started} ms)`);
        assert.equal(s.health().failures, 0, 'a check is not a store operation: nothing counted');
        assert.equal(s.health().available, true);
        await s.close();
      }
      assert.deepEqual(logs.warnings, []);
    } finally {
      real.destroy();
    }
  });
});
