import assert from 'node:assert/strict';
import { Cluster } from 'ioredis';
import { createClient, createCluster } from 'redis';
import { startRedisCluster } from '@otel-checkout/test-support';
import type { RedisClusterNode, StartedRedisCluster } from '@otel-checkout/test-support';
import { FlowStoreError, RedisFlowStore } from '../../src/index.js';
import type { FlowRecord, FlowStore } from '../../src/index.js';
import { captureWarnings } from '../support/capture-warnings.js';
import { flowStoreContract } from './flow-store-contract.js';
import { untilResolved } from './restartable-redis.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const POLICY_WARNING = /Redis flow store: Redis runs with maxmemory-policy (\S+),/;
const RESET_AFTER_RECONNECT = /Redis flow store: Redis came back from a reconnect without the flows it held/;

const record = (tradeNo: string, spanId: string, issuedAt = Date.now()): FlowRecord => ({ traceId: TRACE_ID, spanId, traceFlags: 1, tradeNo, provider: 'acme', issuedAt });

/** Lets the store look at Redis as each sweep does, and waits for that look. */
async function sweepLook(store: RedisFlowStore): Promise<void> {
  await store.claimExpired(Date.now(), 10, 60_000);
  await store.ready();
}

/**
 * Both cluster clients a Node service may run, against one real Redis Cluster of three masters
 * (with persistence, so that a node can be restarted with its data): node-redis's `createCluster`
 * and ioredis's `Cluster`, each given to the store as it is.
 */
describe('RedisFlowStore on a real Redis Cluster (node-redis and ioredis cluster clients)', function () {
  this.timeout(30_000);
  let cluster: StartedRedisCluster;
  let nodeRedis: ReturnType<typeof createCluster>;
  let ioredis: Cluster;
  /** A plain node-redis client per node: KEYS, CONFIG SET and FLUSHALL act on that node alone. */
  const direct = new Map<number, ReturnType<typeof createClient>>();
  /** A hash tag whose slot each node serves, by the node's port. */
  const tags = new Map<number, string>();
  let prefixSeq = 0;

  before(async () => {
    cluster = await startRedisCluster({ persistence: true });
    nodeRedis = createCluster({ rootNodes: cluster.nodes.map((node) => ({ url: node.url })) });
    // It lives through the restarts below: the errors of a node away are expected there.
    nodeRedis.on('error', () => undefined);
    await nodeRedis.connect();
    ioredis = new Cluster(cluster.nodes.map(({ host, port }) => ({ host, port })));
    await new Promise<void>((resolve, reject) => {
      ioredis.once('ready', resolve);
      ioredis.once('error', reject);
    });
    for (const node of cluster.nodes) {
      const client = createClient({ url: node.url });
      client.on('error', () => undefined);
      await client.connect();
      direct.set(node.port, client);
    }
    for (let i = 0; tags.size < cluster.nodes.length; i++) {
      const tag = `flows${i}`;
      const node = await cluster.nodeFor(`{${tag}}`);
      if (!tags.has(node.port)) tags.set(node.port, tag);
    }
  });
  after(async () => {
    nodeRedis?.destroy();
    ioredis?.disconnect();
    for (const client of direct.values()) client.destroy();
    await cluster?.stop();
  });

  const prefixOn = (node: RedisClusterNode, name: string): string => `${name}${prefixSeq++}:{${tags.get(node.port)}}:`;
  /** Every key under `prefix`, node by node (by port). */
  const keysByNode = async (prefix: string): Promise<Map<number, string[]>> =>
    new Map(await Promise.all(cluster.nodes.map(async (node): Promise<[number, string[]]> => [node.port, (await direct.get(node.port)!.keys(`${prefix}*`)).sort()])));

  flowStoreContract(
    'RedisFlowStore (node-redis cluster client)',
    () => Promise.resolve(new RedisFlowStore({ client: nodeRedis, keyPrefix: `nrc${prefixSeq++}:{flows}:` })),
    (store: FlowStore) => store.close(),
  );

  flowStoreContract(
    'RedisFlowStore (ioredis Cluster)',
    () => Promise.resolve(new RedisFlowStore({ client: ioredis, keyPrefix: `ioc${prefixSeq++}:{flows}:` })),
    (store: FlowStore) => store.close(),
  );

  it("keeps every key of a store, those its scripts build (span index, marker) too, on the node of its prefix's hash tag", async () => {
    for (const [client, name] of [
      [nodeRedis, 'nr'],
      [ioredis, 'io'],
    ] as const) {
      for (const node of cluster.nodes) {
        const prefix = prefixOn(node, name);
        const store = new RedisFlowStore({ client, keyPrefix: prefix, retentionMs: 60_000 });
        try {
          await store.ready();
          const now = Date.now();
          await store.put(record('LIVE', '00000000000000a1', now), now + 60_000);
          await store.put(record('TAKEN', '00000000000000b1', now), now + 60_000);
          assert.equal((await store.takeBySpan(TRACE_ID, '00000000000000b1')).record?.tradeNo, 'TAKEN');
          await store.take('EARLY');
          await store.put(record('STALLED', '00000000000000c1', now), now - 1);
          assert.deepEqual((await store.claimExpired(now, 10, 60_000)).map((c) => c.record.tradeNo), ['STALLED']);
          await store.markEmitted(['STALLED']);
          await store.ack(['STALLED']);
          assert.equal((await store.peekBySpan(TRACE_ID, '00000000000000c1'))?.tradeNo, 'STALLED');
          assert.equal(await store.size(), 1);

          const expected = ['due', 'f:LIVE', 'marker', 's:00000000000000a1', 's:00000000000000b1', 's:00000000000000c1', 't:EARLY', 't:STALLED', 't:TAKEN'].map((key) => `${prefix}${key}`);
          assert.deepEqual(
            await keysByNode(prefix),
            new Map(cluster.nodes.map(({ port }) => [port, port === node.port ? expected : []])),
            `${name}: all on ${node.port}`,
          );
          assert.deepEqual(store.health(), { evicted: 0, failures: 0, available: true });
        } finally {
          await store.close();
        }
      }
    }
  });

  it('loads its scripts on the node that runs them: after SCRIPT FLUSH on every node, EVALSHA falls back to EVAL', async () => {
    for (const client of [nodeRedis, ioredis]) {
      const store = new RedisFlowStore({ client, keyPrefix: `flush${prefixSeq++}:{flows}:` });
      try {
        await store.put(record('S1', '00000000000000d1'), Date.now() + 60_000);
        await Promise.all([...direct.values()].map((node) => node.scriptFlush()));
        assert.equal((await store.take('S1')).record?.tradeNo, 'S1');
        assert.equal((await store.take('S1')).duplicate, true);
        assert.equal(store.health().failures, 0);
      } finally {
        await store.close();
      }
    }
  });

  it("shares flows between the two clients, as two instances of a service would, and each expired flow is claimed by one of them at a time (a batch over 1000 flows too)", async () => {
    const prefix = `shared${prefixSeq++}:{flows}:`;
    const stores = [new RedisFlowStore({ client: nodeRedis, keyPrefix: prefix, commandTimeoutMs: 5000 }), new RedisFlowStore({ client: ioredis, keyPrefix: prefix, commandTimeoutMs: 5000 })];
    try {
      const past = Date.now() - 1000;
      await Promise.all(Array.from({ length: 1200 }, (_, i) => stores[i % 2].put(record(`B${i}`, (i + 1).toString(16).padStart(16, '0'), past - 60_000), past)));
      assert.equal(await stores[1].size(), 1200);
      // Written by one client, found by the other, by trade number and by span.
      assert.equal((await stores[1].take('B0')).record?.tradeNo, 'B0');
      assert.equal((await stores[0].takeBySpan(TRACE_ID, (2).toString(16).padStart(16, '0'))).record?.tradeNo, 'B1');

      const now = Date.now();
      const claims = await Promise.all([stores[0].claimExpired(now, 1100, 60_000), stores[1].claimExpired(now, 1100, 60_000)]);
      const claimed = claims.flat().map((c) => c.record.tradeNo);
      assert.equal(claimed.length, 1198, 'every expired flow claimed');
      assert.equal(new Set(claimed).size, 1198, 'each by one of them');
      assert.deepEqual(await stores[0].claimExpired(now + 59_999, 2000, 60_000), [], 'leased');
      for (const [i, batch] of claims.entries()) {
        const tradeNos = batch.map((c) => c.record.tradeNo);
        await stores[i].markEmitted(tradeNos);
        await stores[i].ack(tradeNos);
      }
      assert.equal(await stores[0].size(), 0);
      assert.deepEqual(await stores[1].take('B7'), { record: record('B7', (8).toString(16).padStart(16, '0'), past - 60_000), duplicate: false, late: true });
    } finally {
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  it('reads the eviction policy of the node holding its keys (node-redis), or of a node ioredis picks', async () => {
    const logs = captureWarnings();
    const [owner, ...others] = cluster.nodes;
    try {
      await direct.get(owner.port)!.configSet('maxmemory-policy', 'volatile-lru');
      for (const node of others) await direct.get(node.port)!.configSet('maxmemory-policy', 'allkeys-random');
      const nodeRedisStore = new RedisFlowStore({ client: nodeRedis, keyPrefix: prefixOn(owner, 'policy') });
      await nodeRedisStore.ready();
      assert.deepEqual(logs.warnings.map((w) => POLICY_WARNING.exec(w)?.[1]), ['volatile-lru'], logs.warnings.join('\n'));
      await nodeRedisStore.close();
      // ioredis sends a command without keys to a node of its choice; a managed cluster has one
      // configuration for all its nodes.
      const ioredisStore = new RedisFlowStore({ client: ioredis, keyPrefix: prefixOn(owner, 'policy') });
      await ioredisStore.ready();
      assert.equal(logs.warnings.length, 2, logs.warnings.join('\n'));
      assert.ok(['volatile-lru', 'allkeys-random'].includes(POLICY_WARNING.exec(logs.warnings[1])?.[1] ?? ''), logs.warnings[1]);
      await ioredisStore.close();
    } finally {
      logs.restore();
      for (const client of direct.values()) await client.configSet('maxmemory-policy', 'noeviction');
    }
  });

  it('notices a FLUSHALL of the node holding its keys at the next sweep, through either client, and stops listening to the client when closed', async () => {
    const node = cluster.nodes[1];
    const prefix = prefixOn(node, 'flushall');
    // What each client tells of its connections: node-redis of a node's first one, and of each
    // reconnection attempt; ioredis of the cluster's, and of each node it adds.
    const listeners = (): number[] => [
      nodeRedis.listenerCount('node-ready'),
      nodeRedis.listenerCount('node-reconnecting'),
      ioredis.listenerCount('ready'),
      ioredis.listenerCount('+node'),
    ];
    const listening = listeners();
    const stores = [new RedisFlowStore({ client: nodeRedis, keyPrefix: prefix }), new RedisFlowStore({ client: ioredis, keyPrefix: prefix })];
    assert.deepEqual(listeners(), listening.map((count) => count + 1));
    const resets = [0, 0];
    stores.forEach((store, i) => store.addResetListener(() => resets[i]++));
    const logs = captureWarnings();
    try {
      await Promise.all(stores.map((store) => store.ready()));
      // A flush of another node loses nothing of the store's.
      await direct.get(cluster.nodes[0].port)!.flushAll();
      for (const store of stores) await sweepLook(store);
      assert.deepEqual(resets, [0, 0]);
      await direct.get(node.port)!.flushAll();
      for (const store of stores) await sweepLook(store);
      assert.deepEqual(resets, [1, 1]);
      for (const store of stores) await sweepLook(store);
      assert.deepEqual(resets, [1, 1], 'the marker was written again');
      await Promise.all(stores.map((store) => store.close()));
      assert.deepEqual(listeners(), listening);
    } finally {
      logs.restore();
      await Promise.all(stores.map((store) => store.close()));
    }
  });

  describe('a node restarted (no failover)', () => {
    it('with its data: the flows are still there for both clients, and no loss is reported', async () => {
      const node = cluster.nodes[2];
      const prefix = prefixOn(node, 'restart');
      const stores = [
        new RedisFlowStore({ client: nodeRedis, keyPrefix: prefix, commandTimeoutMs: 500 }),
        new RedisFlowStore({ client: ioredis, keyPrefix: prefix, commandTimeoutMs: 500 }),
      ];
      const resets = [0, 0];
      stores.forEach((store, i) => store.addResetListener(() => resets[i]++));
      try {
        await Promise.all(stores.map((store) => store.ready()));
        await stores[0].put(record('R1', '00000000000000e1'), Date.now() + 60_000);
        await stores[1].put(record('R2', '00000000000000e2'), Date.now() + 60_000);
        await node.restart({ keepData: true });

        assert.equal((await untilResolved(() => stores[1].take('R1'))).record?.tradeNo, 'R1');
        assert.equal((await untilResolved(() => stores[0].take('R2'))).record?.tradeNo, 'R2');
        for (const store of stores) await sweepLook(store);
        assert.deepEqual(resets, [0, 0]);
        for (const store of stores) assert.equal(store.health().available, true);
      } finally {
        await Promise.all(stores.map((store) => store.close()));
      }
    });

    it('without its data: each store notices the loss once, as one after a reconnect, and goes on', async () => {
      const node = cluster.nodes[0];
      const prefix = prefixOn(node, 'lost');
      const stores = [
        new RedisFlowStore({ client: nodeRedis, keyPrefix: prefix, commandTimeoutMs: 500 }),
        new RedisFlowStore({ client: ioredis, keyPrefix: prefix, commandTimeoutMs: 500 }),
      ];
      const resets = [0, 0];
      stores.forEach((store, i) => store.addResetListener(() => resets[i]++));
      const logs = captureWarnings();
      try {
        await Promise.all(stores.map((store) => store.ready()));
        await stores[0].put(record('L1', '00000000000000f1'), Date.now() + 60_000);
        await node.restart({ keepData: false });

        for (const store of stores) {
          await untilResolved(() => store.size());
          await sweepLook(store);
        }
        assert.deepEqual(resets, [1, 1]);
        assert.equal(logs.warnings.filter((w) => RESET_AFTER_RECONNECT.test(w)).length, 2, logs.warnings.join('\n'));
        assert.equal((await stores[1].take('L1')).record, undefined, 'the flow is gone');
        await stores[1].put(record('L2', '00000000000000f2'), Date.now() + 60_000);
        assert.equal((await stores[0].take('L2')).record?.tradeNo, 'L2');
      } finally {
        logs.restore();
        await Promise.all(stores.map((store) => store.close()));
      }
    });
  });

  it('refuses a key prefix without a hash tag with a cluster client, at once (its scripts would all fail with CROSSSLOT)', () => {
    for (const client of [nodeRedis, ioredis]) {
      for (const keyPrefix of ['otc:flows:', 'otc:{}:flows:', 'otc:{flows:', 'otc:}{flows:']) {
        assert.throws(
          () => new RedisFlowStore({ client, keyPrefix }),
          (error: unknown) => error instanceof FlowStoreError && error.message.includes(JSON.stringify(keyPrefix)) && /have no \{hash tag\}/.test(error.message),
          keyPrefix,
        );
      }
      // The default has one; a tag after the first character, or a second brace later, is fine.
      for (const keyPrefix of [undefined, '{otc}:', 'a:{b}:{c}:', 'x{y}']) void new RedisFlowStore({ client, keyPrefix }).close();
    }
  });

  it("counts an ioredis Cluster's own keyPrefix, which comes first in every key, in the hash tag", async () => {
    const withPrefix = async (keyPrefix: string): Promise<Cluster> => {
      const client = new Cluster(cluster.nodes.map(({ host, port }) => ({ host, port })), { keyPrefix });
      await new Promise<void>((resolve, reject) => {
        client.once('ready', resolve);
        client.once('error', reject);
      });
      return client;
    };
    const [tagged, untagged] = await Promise.all([withPrefix('{app}:'), withPrefix('app:')]);
    try {
      // Its tag, then the store's prefix without one: all the store's keys are in the slot of "app".
      const store = new RedisFlowStore({ client: tagged, keyPrefix: `otc${prefixSeq++}:flows:` });
      await store.put(record('K1', '00000000000000a9'), Date.now() - 1);
      assert.equal((await store.claimExpired(Date.now(), 10, 60_000))[0]?.record.tradeNo, 'K1');
      assert.equal((await store.takeBySpan(TRACE_ID, '00000000000000a9')).late, true);
      assert.equal(store.health().failures, 0);
      await store.close();
      const owner = await cluster.nodeFor('{app}');
      assert.equal((await direct.get(owner.port)!.keys('{app}:otc*')).length, 4, 'due, marker, flow, span index');

      assert.throws(() => new RedisFlowStore({ client: untagged, keyPrefix: 'otc:flows:' }), (error: unknown) => error instanceof FlowStoreError && error.message.includes('"app:otc:flows:"'));
    } finally {
      tagged.disconnect();
      untagged.disconnect();
    }
  });
});
