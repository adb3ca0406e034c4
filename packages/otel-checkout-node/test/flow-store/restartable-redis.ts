import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@otel-checkout/test-support';

/**
 * A `redis-server` that can be stopped and started again on the same port with its data, as a
 * Redis with persistence comes back after an outage: an append-only file synced on every write,
 * in a directory of its own. With `persistence: false`, it comes back empty, as a Redis without
 * persistence (no AOF, no RDB) does.
 */
export interface RestartableRedis {
  readonly url: string;
  /** Shuts the server down (SIGTERM: it writes its data) and waits until it is gone. */
  stop(): Promise<void>;
  /** Starts it again on the same port with the same data; resolves once it accepts connections. */
  start(): Promise<void>;
  /** Stops it for good and removes its directory. */
  close(): Promise<void>;
}

export interface RestartableRedisOptions {
  /** Default true: an append-only file, synced on every write. */
  persistence?: boolean;
  /** More `redis-server` arguments, as `['--maxmemory-policy', 'allkeys-lru']`. */
  args?: readonly string[];
}

export async function startRestartableRedis(options: RestartableRedisOptions = {}): Promise<RestartableRedis> {
  const dir = mkdtempSync(join(tmpdir(), 'otc-redis-restart-'));
  const port = await freePort();
  let child: ChildProcess | undefined;

  const start = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const server = spawn(
        'redis-server',
        [
          ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir],
          ...(options.persistence === false ? ['--appendonly', 'no'] : ['--appendonly', 'yes', '--appendfsync', 'always']),
          ...(options.args ?? []),
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      child = server;
      let output = '';
      const onData = (chunk: Buffer): void => {
        output += chunk.toString('utf8');
        if (output.includes('Ready to accept connections')) {
          server.stdout.off('data', onData);
          server.stdout.resume();
          resolve();
        }
      };
      server.stdout.on('data', onData);
      server.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
      server.once('error', reject);
      server.once('exit', (code, signal) => reject(new Error(`redis-server exited (${code ?? signal}) before accepting connections:\n${output}`)));
    });

  const stop = async (): Promise<void> => {
    const server = child;
    child = undefined;
    if (server === undefined || server.exitCode !== null || server.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => server.once('exit', () => resolve()));
    server.kill('SIGTERM');
    await exited;
  };

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    stop,
    start,
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Retries `attempt` until it resolves: the store's client reconnects on its own, with no event a test can await. */
export async function untilResolved<T>(attempt: () => Promise<T>, bound = 200): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await attempt();
    } catch (error) {
      if (i >= bound) throw error;
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }
}
