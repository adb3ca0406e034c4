import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { TestSupportError } from './errors.js';
import { freePort } from './free-port.js';

/** A `redis-server` started for a test. */
export interface StartedRedisServer {
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly port: number;
  /** Stops the server (SIGTERM, then waits for it to exit) and removes its directory. */
  stop(): Promise<void>;
  /** Kills the server at once (SIGKILL), as a crash would; waits for it to be gone. */
  kill(): Promise<void>;
}

/** `redis-server` is not installed or did not come up. */
export class RedisServerError extends TestSupportError {}

/** The path of `redis-server` on this machine, or undefined when it is not installed. */
export function findRedisServer(): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/bin', '/usr/local/bin', '/usr/sbin'];
  for (const dir of dirs) {
    if (dir !== '' && existsSync(join(dir, 'redis-server'))) return join(dir, 'redis-server');
  }
  return undefined;
}

/**
 * Starts Debian's `redis-server` on a free loopback port with persistence off (no RDB
 * snapshots, no AOF) in a temporary directory, and resolves once it accepts connections
 * (it prints "Ready to accept connections"). Retries on another port if the chosen one
 * was taken in between.
 */
export async function startRedisServer(): Promise<StartedRedisServer> {
  const binary = findRedisServer();
  if (binary === undefined) {
    throw new RedisServerError('redis-server not found; install it with `apt-get install redis-server`');
  }
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOn(binary, await freePort());
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError instanceof Error ? lastError : new RedisServerError(String(lastError));
}

function startOn(binary: string, port: number): Promise<StartedRedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'otc-redis-'));
  const child = spawn(
    binary,
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'notice'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  void exited.then(cleanup);
  const end = async (signal: NodeJS.Signals) => {
    if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    await exited;
  };
  return new Promise<StartedRedisServer>((resolve, reject) => {
    let output = '';
    const onData = (chunk: Buffer) => {
      output += chunk.toString('utf8');
      if (output.includes('Ready to accept connections')) {
        child.stdout.off('data', onData);
        child.stdout.resume();
        resolve({
          url: `redis://127.0.0.1:${port}`,
          port,
          stop: () => end('SIGTERM'),
          kill: () => end('SIGKILL'),
        });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString('utf8')));
    child.once('error', (error) => reject(new RedisServerError(`redis-server failed to start: ${error.message}`)));
    child.once('exit', (code, signal) =>
      reject(new RedisServerError(`redis-server exited (${code ?? signal}) before accepting connections:\n${output}`)),
    );
  });
}
