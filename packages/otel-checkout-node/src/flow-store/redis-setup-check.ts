import { randomBytes } from 'node:crypto';
import { diag } from '@opentelemetry/api';
import { FlowStoreTimeoutError } from '../flows/errors.js';
import { MARKER_SCRIPT } from './redis-scripts.js';

/** The one method the checks need of a client (the store's `RedisCommandClient`). */
interface CommandClient {
  sendCommand(args: string[]): Promise<unknown>;
}

/** Where a lost data set was noticed: the first check after a reconnect, or on a connection that stayed up. */
type ResetKind = 'reconnect' | 'connected';

const RESET_CAUSES: Record<ResetKind, string> = {
  reconnect: 'Redis came back from a reconnect without the flows it held (a restart without persistence, or a failover to a replica that lacked them)',
  connected: 'Redis lost the flows it held while the store was connected (FLUSHALL or FLUSHDB, its keys evicted, or the server replaced behind a proxy)',
};

/**
 * What the Redis flow store checks of the Redis behind it, in the background, so that two ways of
 * losing flows silently show at run time (see the README's "Running the Redis behind it"):
 *
 * - an eviction policy other than `noeviction`, read whenever a connection becomes ready, and
 *   said once per store;
 * - a lost data set (a restart without persistence, a flush, a failover to a replica without the
 *   data, an eviction), noticed through a marker key without TTL that every process sharing the
 *   store agrees on: gone or replaced, the flows waiting before then are gone too. Each loss is
 *   told to the reset listeners, said once per kind, and the marker written again.
 *
 * Nothing here is on a store operation's path: the checks are sent beside the operations, each
 * bounded by `timeoutMs`, and whatever goes wrong with them (a timeout, a refused command, a
 * client that throws) is dropped; a check that did not get its answer is tried again next time.
 */
export class RedisSetupCheck {
  /** The marker's value as this store last read it; undefined until a first check got it. */
  private marker: string | undefined;
  /** A connection became ready since the last marker check that got its answer. */
  private reconnected = false;
  /**
   * Counts the connections made or being made again: a check answered over an earlier one clears
   * neither `reconnected` nor `policyRead`, so the next check still counts as one after a reconnect.
   */
  private connection = 0;
  /** The policy of the current connection's server was read (or could not be, by any command allowed). */
  private policyRead = false;
  private policyWarned = false;
  private readonly resetsWarned = new Set<ResetKind>();
  private readonly resetListeners = new Set<() => void>();
  private running: Promise<void> | undefined;
  /** A connection became ready while a check ran: check again once it is done. */
  private again = false;
  private stopped = false;

  constructor(
    private readonly markerKey: string,
    private readonly timeoutMs: number,
  ) {}

  /** A connection of `client` became ready (the first one, or after a reconnect): check everything. */
  connected(client: CommandClient): void {
    if (this.stopped) return;
    this.reconnecting();
    if (this.running !== undefined) this.again = true;
    else this.run(client);
  }

  /**
   * A connection of the client is being made again, and the client will not tell when it is back
   * (a node-redis cluster client tells of a node's first connection only): the next check, at the
   * next sweep, is one after a reconnect and reads the policy again. Nothing is sent now: a check
   * sent while the node is away would only wait for it.
   */
  reconnecting(): void {
    if (this.stopped) return;
    this.connection++;
    this.reconnected = true;
    // After a failover the server may be another one, with another configuration.
    this.policyRead = false;
  }

  /**
   * A chance to notice a data set lost on a connection that stayed up (FLUSHALL): taken at each
   * sweep, so at most one small script per claimed batch. Dropped while a check is under way.
   */
  poll(client: CommandClient): void {
    if (!this.stopped && this.running === undefined) this.run(client);
  }

  /** Resolves once the check under way, if any, is done; never rejects. */
  settled(): Promise<void> {
    return this.running ?? Promise.resolve();
  }

  /** Calls `listener` for each lost data set noticed from now on; returns what removes it. */
  addResetListener(listener: () => void): () => void {
    this.resetListeners.add(listener);
    return () => this.resetListeners.delete(listener);
  }

  /** The store is closed: no more checks, nothing more reported. */
  stop(): void {
    this.stopped = true;
    this.resetListeners.clear();
  }

  private run(client: CommandClient): void {
    const checks = async (): Promise<void> => {
      do {
        this.again = false;
        // Side by side: on one connection they are pipelined.
        await Promise.all([this.policyRead ? undefined : this.readPolicy(client), this.checkMarker(client)]);
      } while (this.again && !this.stopped);
    };
    const running = checks()
      .catch(() => undefined)
      .finally(() => {
        if (this.running === running) this.running = undefined;
      });
    this.running = running;
  }

  private async readPolicy(client: CommandClient): Promise<void> {
    const connection = this.connection;
    let policy: string | undefined;
    try {
      policy = policyFromConfig(await this.ask(client, ['CONFIG', 'GET', 'maxmemory-policy']));
    } catch (error) {
      // Unanswered (a timeout, a connection lost): tried again at the next check. Refused
      // (managed services often disable CONFIG, or an ACL denies it): INFO says it too.
      if (!refused(error)) return;
    }
    if (policy === undefined) {
      try {
        policy = /^maxmemory_policy:([^\r\n]*)/m.exec(text(await this.ask(client, ['INFO', 'memory'])) ?? '')?.[1]?.trim();
      } catch (error) {
        if (!refused(error)) return;
      }
    }
    // Read, or refused by both: then there is nothing to say, and the store goes on as it is.
    if (connection === this.connection) this.policyRead = true;
    if (policy === undefined || policy === '' || policy === 'noeviction' || this.policyWarned || this.stopped) return;
    this.policyWarned = true;
    diag.warn(
      `@otel-checkout/node: Redis flow store: Redis runs with maxmemory-policy ${printable(policy)}, so it may evict flows waiting for their callback, and an evicted flow is neither ended by its callback nor reported stalled; set maxmemory-policy noeviction`,
    );
  }

  private async checkMarker(client: CommandClient): Promise<void> {
    const connection = this.connection;
    let value: unknown;
    try {
      value = await this.ask(client, ['EVAL', MARKER_SCRIPT, '1', this.markerKey, randomBytes(16).toString('hex')]);
    } catch {
      // Unanswered or refused (a full Redis refuses the write of a missing marker): next time.
      return;
    }
    value = text(value);
    if (typeof value !== 'string' || this.stopped) return;
    const known = this.marker;
    const kind: ResetKind = this.reconnected ? 'reconnect' : 'connected';
    this.marker = value;
    if (connection === this.connection) this.reconnected = false;
    // The first answer is the marker this store starts from: a loss before it cannot be told
    // from a Redis that was new. Another value than the one known (another process sharing the
    // store noticed the same loss first and wrote it) is the same loss as no marker at all.
    if (known === undefined || known === value) return;
    for (const listener of this.resetListeners) {
      try {
        listener();
      } catch {
        // a counting hook must not break the store
      }
    }
    if (this.resetsWarned.has(kind)) return;
    this.resetsWarned.add(kind);
    diag.warn(
      `@otel-checkout/node: Redis flow store: ${RESET_CAUSES[kind]}; flows that were waiting for their callback then will not be reported stalled (their callbacks still join their traces by the flow token); run Redis with appendonly yes and maxmemory-policy noeviction`,
    );
  }

  /** One command, bounded, with no failure counted: a check is not a store operation. */
  private async ask(client: CommandClient, args: string[]): Promise<unknown> {
    let timer: NodeJS.Timeout | undefined;
    const bound = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(new FlowStoreTimeoutError(`Redis did not answer within ${this.timeoutMs} ms`)), this.timeoutMs);
      // A bound, not work: it must not keep a process alive that has nothing else to do.
      timer.unref();
    });
    try {
      // Called in a reaction, so a client that throws rejects here instead of throwing.
      return await Promise.race([Promise.resolve().then(() => client.sendCommand(args)), bound]);
    } finally {
      clearTimeout(timer);
    }
  }
}

/** `CONFIG GET maxmemory-policy`'s answer: a name/value list (RESP2), or a map (RESP3). */
function policyFromConfig(reply: unknown): string | undefined {
  let value: unknown;
  if (Array.isArray(reply)) value = reply[1];
  else if (reply instanceof Map) value = reply.get('maxmemory-policy');
  else if (typeof reply === 'object' && reply !== null) value = (reply as Record<string, unknown>)['maxmemory-policy'];
  return text(value);
}

/** A reply as text: a string, or bytes for a client that maps replies to buffers. */
function text(reply: unknown): string | undefined {
  if (typeof reply === 'string') return reply;
  if (reply instanceof Uint8Array) return Buffer.from(reply).toString('utf8');
  // RESP3's verbatim string (INFO's answer), which node-redis gives as a String object.
  if (reply instanceof String) return reply.toString();
  return undefined;
}

/**
 * Redis answered with an error that will not change by asking again: an unknown (renamed,
 * disabled) command, a denied one. Not a timeout, a lost connection, nor a server still loading.
 */
function refused(error: unknown): boolean {
  const message = String((error as Error | null)?.message ?? '');
  return /^[A-Z][A-Z_]+ /.test(message) && !/^(LOADING|BUSY|TRYAGAIN|MASTERDOWN|CLUSTERDOWN) /.test(message);
}

/** A value read from the server, as a log line may hold it: a policy name, nothing else. */
function printable(value: string): string {
  const name = value.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 40);
  return name === '' ? '(unreadable)' : name;
}
