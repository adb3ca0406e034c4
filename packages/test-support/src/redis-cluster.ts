import { spawn } from 'node:child_process';
import type { ChildProcessByStdio } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { freePort } from './free-port.js';
import { findRedisServer, RedisServerError } from './redis-server.js';

/** One master of a cluster started by `startRedisCluster`. */
export interface RedisClusterNode {
  readonly host: '127.0.0.1';
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** The slots it serves, first and last. */
  readonly slots: readonly [number, number];
  /**
   * Stops the node (SIGTERM) and starts it again on the same ports with its cluster configuration,
   * as after a host reboot: no failover (there are no replicas). Its data survives when the cluster
   * runs with persistence, unless `keepData` is false (its data files are removed while it is
   * down). Resolves once every node of the cluster reports `cluster_state:ok` again.
   */
  restart(options?: { keepData?: boolean }): Promise<void>;
}

/** A Redis Cluster of masters on loopback, started for a test. */
export interface StartedRedisCluster {
  readonly nodes: readonly RedisClusterNode[];
  /** The node serving `key`'s slot (asked of the cluster with `CLUSTER KEYSLOT`). */
  nodeFor(key: string): Promise<RedisClusterNode>;
  /** Stops every node (SIGTERM, then waits for each to exit) and removes their directories. */
  stop(): Promise<void>;
}

export interface RedisClusterOptions {
  /** Default 3: each serves an equal share of the 16384 slots. */
  masters?: number;
  /** Default false. True: an append-only file synced on every write, so a restarted node keeps its data. */
  persistence?: boolean;
  /** More `redis-server` arguments for every node, as `['--maxmemory-policy', 'allkeys-lru']`. */
  args?: readonly string[];
  /** Bound on forming the cluster, and on its coming back after a restart, ms. Default 15000. */
  readyTimeoutMs?: number;
}

const SLOTS = 16384;

/**
 * Starts a Redis Cluster of `masters` nodes (`redis-server --cluster-enabled yes`, each in a
 * temporary directory, on free loopback ports for clients and for the cluster bus), assigns the
 * slots, joins the nodes, and resolves once every node reports `cluster_state:ok`.
 */
export async function startRedisCluster(options: RedisClusterOptions = {}): Promise<StartedRedisCluster> {
  const binary = findRedisServer();
  if (binary === undefined) {
    throw new RedisServerError('redis-server not found; install it with `apt-get install redis-server`');
  }
  const masters = options.masters ?? 3;
  const readyTimeoutMs = options.readyTimeoutMs ?? 15_000;
  const processes: ClusterProcess[] = [];
  try {
    for (let i = 0; i < masters; i++) {
      const from = Math.floor((i * SLOTS) / masters);
      const to = Math.floor(((i + 1) * SLOTS) / masters) - 1;
      processes.push(await startProcess(binary, options, [from, to]));
    }
    // Each node its own slots and config epoch (distinct, so no epoch collision has to be
    // resolved), then all meet the first one.
    for (const [i, node] of processes.entries()) {
      await command(node.port, ['CLUSTER', 'ADDSLOTSRANGE', String(node.slots[0]), String(node.slots[1])]);
      await command(node.port, ['CLUSTER', 'SET-CONFIG-EPOCH', String(i + 1)]);
    }
    for (const node of processes.slice(1)) {
      await command(processes[0].port, ['CLUSTER', 'MEET', '127.0.0.1', String(node.port), String(node.busPort)]);
    }
    await untilClusterOk(processes, readyTimeoutMs);
  } catch (error) {
    await Promise.all(processes.map((node) => node.stop()));
    throw error;
  }

  const nodes: RedisClusterNode[] = processes.map((node) => ({
    host: '127.0.0.1',
    port: node.port,
    url: `redis://127.0.0.1:${node.port}`,
    slots: node.slots,
    async restart(restartOptions = {}) {
      await node.restart(restartOptions.keepData !== false);
      await untilClusterOk(processes, readyTimeoutMs);
    },
  }));
  return {
    nodes,
    async nodeFor(key) {
      const slot = Number(await command(processes[0].port, ['CLUSTER', 'KEYSLOT', key]));
      const node = nodes.find(({ slots }) => slot >= slots[0] && slot <= slots[1]);
      if (node === undefined) throw new RedisServerError(`no node serves slot ${slot}`);
      return node;
    },
    async stop() {
      await Promise.all(processes.map((node) => node.stop()));
    },
  };
}

interface ClusterProcess {
  readonly port: number;
  readonly busPort: number;
  readonly slots: readonly [number, number];
  restart(keepData: boolean): Promise<void>;
  stop(): Promise<void>;
}

async function startProcess(binary: string, options: RedisClusterOptions, slots: readonly [number, number]): Promise<ClusterProcess> {
  let lastError: unknown;
  // A port found free may be taken before the server binds it: another pair then.
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'otc-redis-cluster-'));
    const port = await freePort();
    let busPort = await freePort();
    while (busPort === port) busPort = await freePort();
    const args = [
      ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--loglevel', 'notice'],
      ...['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-port', String(busPort)],
      // Long enough that a restart does not get the node marked as failed.
      ...['--cluster-node-timeout', '2000'],
      ...(options.persistence === true ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
      ...(options.args ?? []),
    ];
    let child: ChildProcessByStdio<null, Readable, Readable>;
    try {
      child = await spawnReady(binary, args);
    } catch (error) {
      rmSync(dir, { recursive: true, force: true });
      lastError = error;
      continue;
    }
    let stopped = false;
    const end = async (): Promise<void> => {
      const running = child;
      if (running.exitCode !== null || running.signalCode !== null) return;
      const exited = new Promise<void>((resolve) => running.once('exit', () => resolve()));
      running.kill('SIGTERM');
      await exited;
    };
    return {
      port,
      busPort,
      slots,
      async restart(keepData) {
        if (stopped) throw new RedisServerError('the cluster is stopped');
        await end();
        if (!keepData) {
          rmSync(join(dir, 'appendonlydir'), { recursive: true, force: true });
          rmSync(join(dir, 'dump.rdb'), { force: true });
        }
        child = await spawnReady(binary, args);
      },
      async stop() {
        stopped = true;
        await end();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  throw lastError instanceof Error ? lastError : new RedisServerError(String(lastError));
}

/** Spawns `redis-server` and resolves once it accepts connections. */
function spawnReady(binary: string, args: readonly string[]): Promise<ChildProcessByStdio<null, Readable, Readable>> {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer): void => {
      output += chunk.toString('utf8');
      if (output.includes('Ready to accept connections')) {
        child.stdout.off('data', onData);
        child.stdout.resume();
        child.off('exit', onExit);
        resolve(child);
      }
    };
    const onExit = (code: number | null, signal: NodeJS.Signals | null): void =>
      reject(new RedisServerError(`redis-server exited (${code ?? signal}) before accepting connections:\n${output}`));
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', (error) => reject(new RedisServerError(`redis-server failed to start: ${error.message}`)));
    child.once('exit', onExit);
  });
}

/**
 * Resolves once every node says `cluster_state:ok` and knows all the others; polls `CLUSTER INFO`
 * (a restarted master stays down for about 2 s on its own before it serves again).
 */
async function untilClusterOk(nodes: readonly ClusterProcess[], timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const infos = await Promise.all(nodes.map((node) => command(node.port, ['CLUSTER', 'INFO']).then(String, (error: unknown) => String(error))));
    const ok = infos.every((info) => /^cluster_state:ok\r?$/m.test(info) && new RegExp(`^cluster_known_nodes:${nodes.length}\\r?$`, 'm').test(info));
    if (ok) return;
    if (Date.now() > deadline) throw new RedisServerError(`the cluster did not report cluster_state:ok within ${timeoutMs} ms:\n${infos.join('\n---\n')}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** One command on a connection of its own, its reply read (RESP2): enough to set up a cluster, no client library needed. */
function command(port: number, args: readonly string[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let buffer = Buffer.alloc(0);
    socket.setTimeout(5000, () => socket.destroy(new RedisServerError(`no reply from 127.0.0.1:${port} to ${args[0]}`)));
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      let parsed: ReturnType<typeof parseReply>;
      try {
        parsed = parseReply(buffer, 0);
      } catch (error) {
        socket.destroy(error as Error);
        return;
      }
      if (parsed === undefined) return;
      socket.end();
      if (parsed.value instanceof RedisServerError) reject(parsed.value);
      else resolve(parsed.value);
    });
    socket.write(`*${args.length}\r\n${args.map((arg) => `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`).join('')}`);
  });
}

/** The reply starting at `offset`, and where it ends; undefined while it is incomplete. */
function parseReply(buffer: Buffer, offset: number): { value: unknown; end: number } | undefined {
  const lineEnd = buffer.indexOf('\r\n', offset);
  if (lineEnd < 0) return undefined;
  const line = buffer.toString('utf8', offset + 1, lineEnd);
  switch (String.fromCharCode(buffer[offset])) {
    case '+':
      return { value: line, end: lineEnd + 2 };
    case '-':
      return { value: new RedisServerError(line), end: lineEnd + 2 };
    case ':':
      return { value: Number(line), end: lineEnd + 2 };
    case '$': {
      const length = Number(line);
      if (length < 0) return { value: null, end: lineEnd + 2 };
      if (buffer.length < lineEnd + 2 + length + 2) return undefined;
      return { value: buffer.toString('utf8', lineEnd + 2, lineEnd + 2 + length), end: lineEnd + 2 + length + 2 };
    }
    case '*': {
      const count = Number(line);
      const items: unknown[] = [];
      let end = lineEnd + 2;
      for (let i = 0; i < count; i++) {
        const item = parseReply(buffer, end);
        if (item === undefined) return undefined;
        items.push(item.value);
        end = item.end;
      }
      return { value: count < 0 ? null : items, end };
    }
    default:
      throw new RedisServerError(`unexpected reply from redis-server: ${JSON.stringify(line)}`);
  }
}
