import { createHash } from 'node:crypto';
import { diag } from '@opentelemetry/api';
import { errorSummary } from '../error-summary.js';
import { FlowStoreError, FlowStoreTimeoutError } from '../flows/errors.js';
import { collectedNumber } from '../flows/option-numbers.js';
import { ORPHAN_TAKE_MS } from './orphan-take.js';
import { givenClient, hashTag } from './redis-clients.js';
import type { ConnectionEvents, RedisCommandClient, RedisFlowStoreClient } from './redis-clients.js';
import {
  ACK_SCRIPT,
  CLAIM_SCRIPT,
  KEEP_WAITING_BY_SPAN_SCRIPT,
  KEEP_WAITING_SCRIPT,
  MARK_EMITTED_SCRIPT,
  PEEK_BY_SPAN_SCRIPT,
  PUT_SCRIPT,
  TAKE_BY_SPAN_SCRIPT,
  TAKE_SCRIPT,
} from './redis-scripts.js';
import { RedisSetupCheck } from './redis-setup-check.js';
import type { ClaimedFlow, FlowRecord, FlowStore, FlowStoreHealth, TakeResult, WaitResult } from './types.js';

export type { RedisCallClient, RedisClusterCommandClient, RedisCommandClient, RedisFlowStoreClient } from './redis-clients.js';

/** Options of the Redis flow store (several processes share flows and sweep together). */
export interface RedisFlowStoreOptions {
  /**
   * A connected client you manage: node-redis (`createClient`, or `createCluster` for a Redis
   * Cluster), ioredis (`Redis` or `Cluster`), or any object whose `sendCommand(args)` sends one
   * command. Give this or `url`.
   */
  client?: RedisFlowStoreClient;
  /** `redis://host:port/db`: the store creates (lazily, with `import('redis')`) and closes its own client. */
  url?: string;
  /**
   * Prefix of every key; keep the `{...}` hash tag so a cluster puts all keys in one slot (with a
   * cluster client, a prefix without one is refused). Default `otc:{flows}:`.
   */
  keyPrefix?: string;
  /** Bound on put/take, the calls on the request path, ms. Default 250. */
  commandTimeoutMs?: number;
  /** Bound on the sweeper's batch calls (claim, ack), ms. Default 5000. */
  batchTimeoutMs?: number;
  /** Connection timeout for a client created from `url`, and the bound on each of the store's checks of Redis after a connection, ms. Default 1000. */
  connectTimeoutMs?: number;
  /** How long tombstones (and flows nobody sweeps) are kept after their deadline, ms. Default 48 hours. */
  retentionMs?: number;
  /** Most puts waiting for Redis at once; more are dropped (and counted) rather than queued. Default 1000. */
  maxPendingPuts?: number;
}

const DEFAULT_RETENTION_MS = 48 * 3600 * 1000;
/** Longest wait recorded for keepWaiting, ms: its TTL (wait plus retention) stays a valid PEXPIRE. */
const MAX_WAIT_MS = Number.MAX_SAFE_INTEGER / 2;

interface Script {
  source: string;
  sha: string;
}

function script(source: string): Script {
  return { source, sha: createHash('sha1').update(source).digest('hex') };
}

const PUT = script(PUT_SCRIPT);
const TAKE = script(TAKE_SCRIPT);
const KEEP_WAITING = script(KEEP_WAITING_SCRIPT);
const TAKE_BY_SPAN = script(TAKE_BY_SPAN_SCRIPT);
const KEEP_WAITING_BY_SPAN = script(KEEP_WAITING_BY_SPAN_SCRIPT);
const PEEK_BY_SPAN = script(PEEK_BY_SPAN_SCRIPT);
const CLAIM = script(CLAIM_SCRIPT);
const ACK = script(ACK_SCRIPT);
const MARK_EMITTED = script(MARK_EMITTED_SCRIPT);

/** Longest pause between connection attempts of the store's own client, ms. */
const MAX_RECONNECT_DELAY_MS = 2000;

interface OwnedClient extends RedisCommandClient {
  readonly isOpen: boolean;
  readonly isReady: boolean;
  on(event: 'error', listener: (error: unknown) => void): unknown;
  on(event: 'connect' | 'ready' | 'reconnecting', listener: () => void): unknown;
  connect(): Promise<unknown>;
  /** node-redis 5 */
  destroy?(): void;
  /** node-redis 4, which has no `destroy` */
  disconnect?(): Promise<void>;
}

/** What the store listens to on a client given to it, when it has it (node-redis and ioredis clients do). */
interface ListenableClient {
  on(event: string, listener: () => void): unknown;
  off?(event: string, listener: () => void): unknown;
  removeListener?(event: string, listener: () => void): unknown;
}

/** The store's own client, and whether it is opening a socket right now (see `endOwnedClient`). */
interface OwnedConnection {
  readonly client: OwnedClient;
  openingSocket: boolean;
}

/**
 * Flow store on Redis. Every operation is one Lua script (atomic on the server) bounded by a
 * timeout; a failure or timeout rejects with a FlowStoreError, is counted, and is logged once
 * per outage. Callers on the request path treat a rejection as "store unavailable" and go on.
 */
export class RedisFlowStore implements FlowStore {
  /** The store's prefix, as it names keys to the client. */
  private readonly prefix: string;
  /**
   * The prefix the keys have in Redis, from which the scripts build the keys they find through
   * others (the span index's flow, the flows of a claim): a client's own key prefix (ioredis's
   * `keyPrefix`) comes before the store's.
   */
  private readonly keyspace: string;
  private readonly dueKey: string;
  private readonly commandTimeoutMs: number;
  private readonly batchTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly retentionMs: number;
  private readonly maxPendingPuts: number;
  private readonly url: string | undefined;
  private client: RedisCommandClient | undefined;
  private owned: OwnedConnection | undefined;
  private connecting: Promise<RedisCommandClient> | undefined;
  private pendingPuts = 0;
  private failures = 0;
  private available = true;
  private closed = false;
  private readonly setupCheck: RedisSetupCheck;
  /** Removes the store's 'ready' listener from a client given to it. */
  private stopListening: (() => void) | undefined;
  readonly optionProblems: readonly string[];

  constructor(options: RedisFlowStoreOptions) {
    if (options.client === undefined && options.url === undefined) {
      throw new FlowStoreError('RedisFlowStore needs a `client` or a `url`');
    }
    this.url = options.url;
    const problems: string[] = [];
    if (options.keyPrefix !== undefined && (typeof options.keyPrefix !== 'string' || options.keyPrefix === '')) {
      problems.push('option RedisFlowStore keyPrefix is not a non-empty string; using otc:{flows}:');
      diag.warn(`@otel-checkout/node: ${problems[0]}`);
    }
    this.prefix = problems.length === 0 && options.keyPrefix !== undefined ? options.keyPrefix : 'otc:{flows}:';
    this.dueKey = `${this.prefix}due`;
    const given = options.client === undefined ? undefined : givenClient(options.client, this.dueKey);
    this.keyspace = `${given?.keyPrefix ?? ''}${this.prefix}`;
    // Not a default to fall back on: another prefix would share, or split, the flows of stores
    // that were given distinct ones. Without a tag every script fails (CROSSSLOT), so the store
    // could not work at all.
    if (given?.cluster === true && hashTag(this.keyspace) === undefined) {
      throw new FlowStoreError(
        `RedisFlowStore keys under ${JSON.stringify(this.keyspace)} have no {hash tag}, which ${given.kind} needs: every key of the store must hash to one cluster slot (its scripts act on several keys at once); give a keyPrefix with one, such as "otc:{flows}:"`,
      );
    }
    this.client = given?.commands;
    this.commandTimeoutMs = collectedNumber(options.commandTimeoutMs, 'positive', 250, 'RedisFlowStore commandTimeoutMs', problems);
    this.batchTimeoutMs = collectedNumber(options.batchTimeoutMs, 'positive', 5000, 'RedisFlowStore batchTimeoutMs', problems);
    this.connectTimeoutMs = collectedNumber(options.connectTimeoutMs, 'positive', 1000, 'RedisFlowStore connectTimeoutMs', problems);
    // Whole milliseconds: Redis's PEXPIRE refuses a fraction, after a script has written.
    this.retentionMs = Math.ceil(collectedNumber(options.retentionMs, 'positive', DEFAULT_RETENTION_MS, 'RedisFlowStore retentionMs', problems));
    this.maxPendingPuts = collectedNumber(options.maxPendingPuts, 'count', 1000, 'RedisFlowStore maxPendingPuts', problems);
    this.optionProblems = problems;
    this.setupCheck = new RedisSetupCheck(`${this.prefix}marker`, this.connectTimeoutMs);
    // Connect at once, so the first payment does not pay for loading the client and the handshake.
    if (given === undefined) this.connect().catch(() => undefined);
    else this.watchGivenClient(given.client, given.commands, given.events);
  }

  /**
   * Resolves once the store's own client is connected (at once for a given client) and the
   * store's check of Redis under way is done (its eviction policy, and whether it lost its data;
   * each read bounded by `connectTimeoutMs`, and never a reason to reject); for readiness checks
   * at startup. Rejects with a FlowStoreError when the client cannot be made (a malformed `url`,
   * `redis` not installed), or with a FlowStoreTimeoutError when Redis is not reachable within
   * `connectTimeoutMs` (the client keeps trying in the background, and the store works once it
   * connects). After an outage the store noticed (`health().available` false), it asks Redis
   * again, bounded the same way, so it also serves a readiness probe later on.
   */
  async ready(): Promise<void> {
    if (this.client === undefined) await this.withTimeout(this.connect(), this.connectTimeoutMs);
    // After an outage the client exists, but a readiness probe must not hear "ready" while Redis
    // is still away: one PING, bounded as a connection is, answers it (and a success marks the
    // store available again).
    else if (!this.available) await this.withTimeout(this.command(['PING']), this.connectTimeoutMs);
    await this.setupCheck.settled();
  }

  async put(record: FlowRecord, deadline: number): Promise<void> {
    if (this.pendingPuts >= this.maxPendingPuts) {
      this.fail(new FlowStoreError('too many puts waiting for Redis; dropped'));
      throw new FlowStoreError('too many puts waiting for Redis');
    }
    this.pendingPuts++;
    try {
      const { tradeNo } = record;
      // Bounded, so PEXPIRE never refuses the value after the script has written the flow.
      const ttl = Math.min(Number.MAX_SAFE_INTEGER, Math.max(1, Math.ceil(deadline - Date.now() + this.retentionMs)));
      const wait = Math.min(MAX_WAIT_MS, Math.max(0, Math.round(deadline - record.issuedAt)));
      await this.run(
        PUT,
        [this.flowKey(tradeNo), this.dueKey, this.tombKey(tradeNo), this.spanKey(record.spanId)],
        [
          JSON.stringify(record),
          record.spanId,
          String(deadline),
          String(ttl),
          tradeNo,
          String(wait),
          String(record.issuedAt),
          String(this.retentionMs),
          record.traceId,
          this.keyspace,
        ],
        this.commandTimeoutMs,
      );
    } finally {
      this.pendingPuts--;
    }
  }

  async take(tradeNo: string): Promise<TakeResult> {
    const reply = await this.run(
      TAKE,
      [this.flowKey(tradeNo), this.dueKey, this.tombKey(tradeNo)],
      [tradeNo, String(this.retentionMs), String(Date.now()), String(ORPHAN_TAKE_MS), this.keyspace],
      this.commandTimeoutMs,
    );
    const { record, duplicate, late } = foundFlow(tradeNo, reply);
    return { ...(record ? { record } : {}), duplicate, late };
  }

  async takeBySpan(traceId: string, spanId: string): Promise<TakeResult> {
    const reply = await this.run(
      TAKE_BY_SPAN,
      [this.spanKey(spanId), this.dueKey],
      [spanId, traceId, String(this.retentionMs), String(Date.now()), String(ORPHAN_TAKE_MS), this.keyspace],
      this.commandTimeoutMs,
    );
    const { record, duplicate, late } = foundFlow(undefined, reply, { traceId, spanId });
    return { ...(record ? { record } : {}), duplicate, late };
  }

  /** One script, one round trip, bounded by `commandTimeoutMs` as `take` is; it writes nothing. */
  async peekBySpan(traceId: string, spanId: string): Promise<FlowRecord | undefined> {
    const reply = await this.run(PEEK_BY_SPAN, [this.spanKey(spanId)], [this.keyspace], this.commandTimeoutMs);
    if (!Array.isArray(reply) || reply.length < 3) return undefined;
    const isFlow = (record: FlowRecord | undefined): record is FlowRecord => record?.traceId === traceId && record.spanId === spanId;
    const live = parseRecord(undefined, reply[0]);
    if (isFlow(live)) return typeof reply[1] === 'string' && reply[1] !== '' ? { ...live, lastStatus: reply[1] } : live;
    const tomb = parseRecord(undefined, reply[2]);
    return isFlow(tomb) ? tomb : undefined;
  }

  async keepWaitingBySpan(traceId: string, spanId: string, now: number, lastStatus?: string): Promise<WaitResult> {
    const reply = await this.run(
      KEEP_WAITING_BY_SPAN,
      [this.spanKey(spanId), this.dueKey],
      [spanId, traceId, String(Math.floor(now)), String(this.retentionMs), typeof lastStatus === 'string' ? lastStatus : '', this.keyspace],
      this.commandTimeoutMs,
    );
    const { state, record, duplicate, late } = foundFlow(undefined, reply, { traceId, spanId });
    return { ...(record ? { record } : {}), duplicate, late, waiting: state === 1 };
  }

  async keepWaiting(tradeNo: string, now: number, lastStatus?: string): Promise<WaitResult> {
    const reply = await this.run(
      KEEP_WAITING,
      [this.flowKey(tradeNo), this.dueKey, this.tombKey(tradeNo)],
      [tradeNo, String(Math.floor(now)), String(this.retentionMs), typeof lastStatus === 'string' ? lastStatus : '', this.keyspace],
      this.commandTimeoutMs,
    );
    const { state, record, duplicate, late } = foundFlow(tradeNo, reply);
    return { ...(record ? { record } : {}), duplicate, late, waiting: state === 1 };
  }

  async claimExpired(now: number, limit: number, leaseMs: number): Promise<ClaimedFlow[]> {
    // Sweeps come at a steady pace on a connection that may stay up for weeks: the time to
    // notice a Redis flushed (or its marker evicted) without a reconnect. Beside the claim, not before it.
    if (this.client !== undefined) this.setupCheck.poll(this.client);
    const reply = (await this.run(
      CLAIM,
      [this.dueKey],
      [String(Math.floor(now)), String(Math.max(1, Math.floor(limit))), String(Math.max(1, Math.floor(leaseMs))), this.keyspace],
      this.batchTimeoutMs,
    )) as unknown[];
    const claimed: ClaimedFlow[] = [];
    if (!Array.isArray(reply)) return claimed;
    for (let i = 0; i + 3 < reply.length; i += 4) {
      const record = parseRecord(undefined, reply[i]);
      const lastStatus = reply[i + 3];
      if (record === undefined) continue;
      claimed.push({
        record: typeof lastStatus === 'string' && lastStatus !== '' ? { ...record, lastStatus } : record,
        claims: Number(reply[i + 1]),
        emitted: Number(reply[i + 2]) === 1,
      });
    }
    return claimed;
  }

  async markEmitted(tradeNos: readonly string[], spanIds?: readonly string[]): Promise<void> {
    if (tradeNos.length === 0) return;
    await this.run(MARK_EMITTED, [this.dueKey], [this.keyspace, ...flowPairs(tradeNos, spanIds)], this.batchTimeoutMs);
  }

  async ack(tradeNos: readonly string[], spanIds?: readonly string[]): Promise<void> {
    if (tradeNos.length === 0) return;
    await this.run(ACK, [this.dueKey], [this.keyspace, String(this.retentionMs), ...flowPairs(tradeNos, spanIds)], this.batchTimeoutMs);
  }

  async size(): Promise<number> {
    return Number(await this.withTimeout(this.command(['ZCARD', this.dueKey]), this.commandTimeoutMs));
  }

  health(): FlowStoreHealth {
    return { evicted: 0, failures: this.failures, available: this.available };
  }

  /**
   * Calls `listener` each time the store notices that Redis lost the flows waiting in it (a
   * restart without persistence, a flush, a failover to a replica without them, its keys
   * evicted), from now on; returns what removes it. The flows count these in `flowStoreResets`.
   */
  addResetListener(listener: () => void): () => void {
    return this.setupCheck.addResetListener(listener);
  }

  /**
   * Closes the store's own client (a given client is left to its owner). Resolves once that
   * client is closed; when it is still connecting, that is when its connection attempt ends
   * (bounded: see `endOwnedClient`).
   */
  async close(): Promise<void> {
    this.closed = true;
    this.setupCheck.stop();
    this.stopListening?.();
    this.stopListening = undefined;
    const owned = this.owned;
    this.owned = undefined;
    this.connecting = undefined;
    if (owned === undefined) return;
    if (this.client === owned.client) this.client = undefined;
    await endOwnedClient(owned, 2 * this.connectTimeoutMs);
  }

  /**
   * Checks Redis through a client the application gave (`commands`, the store's way of sending
   * through it): now (it is given connected), and after each reconnect when the client tells of
   * them, as node-redis and ioredis clients do (`events`).
   */
  private watchGivenClient(client: object, commands: RedisCommandClient, events: ConnectionEvents): void {
    this.setupCheck.connected(commands);
    const listenable = client as Partial<ListenableClient>;
    if (typeof listenable.on !== 'function') return;
    const listeners: [string, () => void][] = [
      ...events.ready.map((event): [string, () => void] => [event, () => this.setupCheck.connected(commands)]),
      ...events.reconnecting.map((event): [string, () => void] => [event, () => this.setupCheck.reconnecting()]),
    ];
    const added: [string, () => void][] = [];
    try {
      for (const [event, listener] of listeners) {
        listenable.on.call(client, event, listener);
        added.push([event, listener]);
      }
    } catch {
      // the client's own business; what was added is removed at close
    }
    this.stopListening = () => {
      for (const [event, listener] of added) {
        try {
          const off = listenable.off ?? listenable.removeListener;
          off?.call(client, event, listener);
        } catch {
          // the client's own business
        }
      }
    };
  }

  private flowKey(tradeNo: string): string {
    return `${this.prefix}f:${tradeNo}`;
  }

  private tombKey(tradeNo: string): string {
    return `${this.prefix}t:${tradeNo}`;
  }

  private spanKey(spanId: string): string {
    return `${this.prefix}s:${spanId}`;
  }

  private async run(s: Script, keys: string[], args: string[], timeoutMs: number): Promise<unknown> {
    const numKeys = String(keys.length);
    const attempt = async (): Promise<unknown> => {
      try {
        return await this.command(['EVALSHA', s.sha, numKeys, ...keys, ...args]);
      } catch (error) {
        // First use on this server (or after a restart): load the script by sending it whole.
        if (String((error as Error)?.message).startsWith('NOSCRIPT')) {
          return this.command(['EVAL', s.source, numKeys, ...keys, ...args]);
        }
        throw error;
      }
    };
    // Until the own client is connected, a call may also wait for the connection (itself bounded).
    return this.withTimeout(attempt(), this.client === undefined ? timeoutMs + this.connectTimeoutMs : timeoutMs);
  }

  private async command(args: string[]): Promise<unknown> {
    // node-redis keeps retrying a first connection that failed; while it does, answer at once
    // instead of making every payment request wait for it.
    if (this.client === undefined && !this.available && !this.closed) throw new FlowStoreError('Redis flow store is not connected');
    const client = this.client ?? (await this.connect());
    return client.sendCommand(args);
  }

  private connect(): Promise<RedisCommandClient> {
    if (this.closed) return Promise.reject(new FlowStoreError('flow store is closed'));
    this.connecting ??= this.createClient();
    return this.connecting;
  }

  private async createClient(): Promise<RedisCommandClient> {
    try {
      const redis = (await import('redis').catch((error: unknown) => {
        throw new FlowStoreError('RedisFlowStore with a url needs the `redis` package (an optional peer dependency)', { cause: error });
      })) as unknown as {
        createClient(options: unknown): OwnedClient;
      };
      // Closed while the module loaded: no connection is opened at all.
      if (this.closed) throw new FlowStoreError('flow store is closed');
      const client = createRedisClient(redis, {
        url: this.url,
        // Fail commands at once while disconnected instead of queueing them without bound.
        disableOfflineQueue: true,
        socket: {
          connectTimeout: this.connectTimeoutMs,
          // Once the store is closed, a failed attempt ends the connect instead of trying again.
          reconnectStrategy: (retries: number) =>
            this.closed ? false : Math.min(100 * 2 ** Math.min(retries, 5), MAX_RECONNECT_DELAY_MS),
        },
      });
      const owned: OwnedConnection = { client, openingSocket: true };
      // A socket is being opened from `connect()` or a 'reconnecting' until it connects or the attempt fails.
      client.on('connect', () => (owned.openingSocket = false));
      // The first connection and every reconnect: the server may have restarted, or be another one.
      client.on('ready', () => {
        if (!this.closed) this.setupCheck.connected(client);
      });
      client.on('reconnecting', () => (owned.openingSocket = true));
      client.on('error', (error) => {
        owned.openingSocket = false;
        if (!this.closed) this.fail(error, false);
      });
      this.owned = owned;
      await client.connect();
      // Closed while connecting: `close` ends this client (see `endOwnedClient`); it is not kept.
      if (this.closed) throw new FlowStoreError('flow store is closed');
      this.client = client;
      return client;
    } catch (error) {
      this.connecting = undefined;
      // An attempt cut short by close fails with whatever node-redis threw then; the reason is the close.
      if (this.closed && !(error instanceof FlowStoreError)) throw new FlowStoreError('flow store is closed', { cause: error });
      throw error;
    }
  }

  private withTimeout<T>(operation: Promise<T>, timeoutMs: number): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        const error = new FlowStoreTimeoutError(`Redis did not answer within ${timeoutMs} ms`);
        this.fail(error);
        reject(error);
      }, timeoutMs);
      // A bound, not work: it must not keep a process alive that has nothing else to do.
      timer.unref();
      operation.then(
        (value) => {
          clearTimeout(timer);
          if (!this.available) {
            this.available = true;
            diag.info('@otel-checkout/node: Redis flow store reachable again');
          }
          resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          const wrapped = error instanceof FlowStoreError ? error : new FlowStoreError('Redis flow store operation failed', { cause: error });
          this.fail(wrapped);
          reject(wrapped);
        },
      );
    });
  }

  /** Counts a failure; logs only the first of an outage (the store goes "unavailable" until a success). */
  private fail(error: unknown, count = true): void {
    if (count) this.failures++;
    if (this.available) {
      this.available = false;
      diag.warn(`@otel-checkout/node: Redis flow store unavailable; flows fall back to token-only correlation: ${errorSummary(error)}`);
    }
  }
}

/**
 * node-redis's createClient, whose errors (a malformed URL: a plain TypeError) become the
 * store's. Not as the cause: Node's URL error keeps the whole URL, password included, as
 * `input`, and whoever logs the store's error would print it. Its class and code say enough.
 */
function createRedisClient(redis: { createClient(options: unknown): OwnedClient }, options: unknown): OwnedClient {
  try {
    return redis.createClient(options);
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    const kind = `${error instanceof Error ? error.name : typeof error}${typeof code === 'string' ? ` ${code}` : ''}`;
    throw new FlowStoreError(`RedisFlowStore could not make a Redis client (${kind}; is \`url\` a redis:// URL?)`);
  }
}

/**
 * Ends a client of the store's own. node-redis forgets a socket that is still being opened when
 * the client is destroyed, and that socket, once connected, stays open with nothing left to close
 * it. So a client opening a socket is not destroyed then: the attempt is left to finish, and a
 * connection that comes up is destroyed as soon as it is ready, while a failed attempt ends the
 * client (its reconnect strategy gives up once the store is closed). In any other state (ready,
 * in the handshake, waiting between attempts) it is destroyed at once. After `boundMs` (longer
 * than one attempt) it is destroyed anyway, for a server that accepts connections but never
 * answers the handshake.
 */
function endOwnedClient(owned: OwnedConnection, boundMs: number): Promise<void> {
  const { client } = owned;
  if (!owned.openingSocket || client.isReady || !client.isOpen) {
    destroyQuietly(client);
    return Promise.resolve();
  }
  return new Promise<void>((resolve) => {
    let ended = false;
    const end = (): void => {
      if (ended) return;
      ended = true;
      clearTimeout(bound);
      destroyQuietly(client);
      resolve();
    };
    const bound = setTimeout(end, boundMs);
    // The socket being opened keeps the process alive while it needs to; the bound need not.
    bound.unref();
    client.on('ready', end);
    client.on('error', () => {
      if (!client.isOpen) end();
    });
  });
}

function destroyQuietly(client: OwnedClient): void {
  if (!client.isOpen) return;
  try {
    if (typeof client.destroy === 'function') client.destroy();
    else client.disconnect?.().catch(() => undefined);
  } catch {
    // already gone
  }
}

/** Trade number and span id, in turn, for the scripts ('' where no span id is given: any flow). */
function flowPairs(tradeNos: readonly string[], spanIds: readonly string[] | undefined): string[] {
  return tradeNos.flatMap((tradeNo, i) => [tradeNo, spanIds?.[i] ?? '']);
}

/**
 * A take or keep-waiting reply, `{state, record, duplicate, late}` (state 0: unknown), read. A
 * record of another trade number, or (by span) of another flow, is no record.
 */
function foundFlow(
  tradeNo: string | undefined,
  reply: unknown,
  flow?: Pick<FlowRecord, 'traceId' | 'spanId'>,
): { state: number; record?: FlowRecord; duplicate: boolean; late: boolean } {
  if (!Array.isArray(reply)) return { state: 0, duplicate: false, late: false };
  // Unknown: no record, but a take of it may already be remembered (then this one is a duplicate).
  if (Number(reply[0]) === 0) return { state: 0, duplicate: Number(reply[2]) === 1, late: false };
  const parsed = parseRecord(tradeNo, reply[1]);
  const record = flow === undefined || (parsed?.traceId === flow.traceId && parsed.spanId === flow.spanId) ? parsed : undefined;
  return { state: Number(reply[0]), ...(record ? { record } : {}), duplicate: Number(reply[2]) === 1, late: Number(reply[3]) === 1 };
}

function parseRecord(tradeNo: string | undefined, json: unknown): FlowRecord | undefined {
  if (typeof json !== 'string') return undefined;
  try {
    const record = JSON.parse(json) as FlowRecord;
    if (tradeNo !== undefined && record.tradeNo !== tradeNo) return undefined;
    if (typeof record.traceId !== 'string' || typeof record.spanId !== 'string' || typeof record.tradeNo !== 'string') {
      return undefined;
    }
    return record;
  } catch {
    return undefined;
  }
}
