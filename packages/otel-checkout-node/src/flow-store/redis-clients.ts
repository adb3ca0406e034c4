import { FlowStoreError } from '../flows/errors.js';

/**
 * The one method the store needs from a Redis client. A node-redis (v4 or v5) client has it;
 * so the package never imports `redis` unless it is asked to connect by URL.
 */
export interface RedisCommandClient {
  sendCommand(args: string[]): Promise<unknown>;
}

/**
 * A node-redis cluster client (`createCluster`, v4 or v5): it sends a command to the master of the
 * slot of the key given first. The store gives it a key under its prefix, so every command, those
 * without keys too (its checks of the eviction policy), goes to the node holding the store's keys.
 */
export interface RedisClusterCommandClient {
  sendCommand(firstKey: string | undefined, isReadonly: boolean | undefined, args: string[]): Promise<unknown>;
  readonly masters: readonly unknown[];
}

/**
 * An ioredis client, `Redis` or `Cluster` (v5 or later): the store sends each command with
 * `call(command, args)`, and ioredis routes a cluster's by the keys it names. A `keyPrefix` of the
 * client's is honoured: the store's keys are under it followed by the store's own prefix.
 */
export interface RedisCallClient {
  call(command: string, args: string[]): Promise<unknown>;
  readonly isCluster: boolean;
}

/** Whatever `RedisFlowStoreOptions.client` takes. */
export type RedisFlowStoreClient = RedisCommandClient | RedisClusterCommandClient | RedisCallClient;

/** How the store listens to a client for its (re)connections: event names, as the client emits them. */
export interface ConnectionEvents {
  /** A connection became ready: the store checks the Redis behind it now. */
  readonly ready: readonly string[];
  /** A connection is being made again, and no event will tell when it is back: the next check is one after a reconnect. */
  readonly reconnecting: readonly string[];
}

/** A client given to the store, as the store uses it. */
export interface GivenClient {
  /** The client itself, whose events the store listens to. */
  readonly client: object;
  /** One command at a time, as node-redis's `sendCommand(args)`, routed to the store's node on a cluster. */
  readonly commands: RedisCommandClient;
  /** The Redis behind it is a cluster: every key of the store must hash to one slot. */
  readonly cluster: boolean;
  /** What the client puts before every key it sends (ioredis's `keyPrefix`); '' for none. */
  readonly keyPrefix: string;
  readonly events: ConnectionEvents;
  /** Which kind of client it is, for messages. */
  readonly kind: string;
}

const NODE_REDIS_EVENTS: ConnectionEvents = { ready: ['ready'], reconnecting: [] };
// node-redis's cluster tells of each node's first connection only ('node-ready' comes once per
// node client); a node that reconnects says 'node-reconnecting' each time it tries.
const NODE_REDIS_CLUSTER_EVENTS: ConnectionEvents = { ready: ['node-ready'], reconnecting: ['node-reconnecting'] };
// ioredis's `Redis` says 'ready' after each (re)connection; its `Cluster` says it when the cluster
// is connected again, and '+node' when it adds a node (its client then connects on its own).
const IOREDIS_EVENTS: ConnectionEvents = { ready: ['ready'], reconnecting: [] };
const IOREDIS_CLUSTER_EVENTS: ConnectionEvents = { ready: ['ready'], reconnecting: ['+node'] };

/**
 * The client given to the store, told apart by what it has: an ioredis client by `call` and its
 * `isCluster` flag (ioredis's own `sendCommand` takes a `Command` object, not arguments), a
 * node-redis cluster client by its `masters` list or its `getSlotMaster`, which a node-redis
 * client has neither of, anything else by `sendCommand(args)`. `routingKey`, a key under the
 * store's prefix, routes a node-redis cluster's commands. Throws a FlowStoreError for an object
 * that has none of these.
 */
export function givenClient(client: RedisFlowStoreClient, routingKey: string): GivenClient {
  const candidate = client as unknown as Record<string, unknown> | null;
  if (typeof candidate === 'object' && candidate !== null) {
    if (typeof candidate.call === 'function' && typeof candidate.isCluster === 'boolean') {
      const ioredis = client as RedisCallClient;
      return {
        client: ioredis,
        commands: { sendCommand: (args) => ioredis.call(args[0], args.slice(1)) },
        cluster: ioredis.isCluster,
        keyPrefix: ioredisKeyPrefix(candidate.options),
        events: ioredis.isCluster ? IOREDIS_CLUSTER_EVENTS : IOREDIS_EVENTS,
        kind: ioredis.isCluster ? 'an ioredis Cluster' : 'an ioredis client',
      };
    }
    if (typeof candidate.sendCommand === 'function' && (Array.isArray(candidate.masters) || typeof candidate.getSlotMaster === 'function')) {
      const cluster = client as RedisClusterCommandClient;
      return {
        client: cluster,
        commands: { sendCommand: (args) => cluster.sendCommand(routingKey, false, args) },
        cluster: true,
        keyPrefix: '',
        events: NODE_REDIS_CLUSTER_EVENTS,
        kind: 'a node-redis cluster client',
      };
    }
    if (typeof candidate.sendCommand === 'function') {
      return { client: candidate, commands: client as RedisCommandClient, cluster: false, keyPrefix: '', events: NODE_REDIS_EVENTS, kind: 'a Redis client' };
    }
  }
  throw new FlowStoreError(
    'RedisFlowStore `client` is not a Redis client: give a node-redis client or cluster client, an ioredis client or Cluster, or an object whose sendCommand(args) sends one command',
  );
}

/** ioredis's own key prefix (its `keyPrefix` option, a `Cluster`'s or its `redisOptions`'), which it adds to the keys it knows a command has. */
function ioredisKeyPrefix(options: unknown): string {
  const keyPrefix = (options as { keyPrefix?: unknown } | null | undefined)?.keyPrefix;
  if (typeof keyPrefix === 'string') return keyPrefix;
  if (keyPrefix instanceof Uint8Array) return Buffer.from(keyPrefix).toString('utf8');
  return '';
}

/**
 * The hash tag a key starting with `prefix` hashes by on a Redis Cluster, whatever follows the
 * prefix, or undefined when the prefix does not fix one. Redis hashes the part between the first
 * `{` and the first `}` after it, when that part is not empty; otherwise the whole key.
 */
export function hashTag(prefix: string): string | undefined {
  const open = prefix.indexOf('{');
  if (open < 0) return undefined;
  const close = prefix.indexOf('}', open + 1);
  if (close < 0 || close === open + 1) return undefined;
  return prefix.slice(open + 1, close);
}
