import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@otel-checkout/test-support';
import { stringify } from 'yaml';

/** A Prometheus server started for a test. */
export interface StartedPrometheus {
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  /** Runs an instant query; resolves with its result vector. */
  query(expr: string): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>>;
  /** GETs an API path (`/api/v1/rules`) and resolves with its `data`. */
  api<T>(path: string): Promise<T>;
  /** Stops the server and removes its data directory. */
  stop(): Promise<void>;
}

export interface PrometheusOptions {
  /** `host:port` to scrape every second. */
  target: string;
  /** Rule files (YAML text) to load, evaluated every second. */
  rules: string[];
}

/**
 * Starts Debian's `prometheus` on a free loopback port, scraping `target` and evaluating
 * `rules` every second, and resolves once it is ready for queries (it logs "Server is ready
 * to receive web requests.").
 */
export async function startPrometheus(options: PrometheusOptions): Promise<StartedPrometheus> {
  const dir = await mkdtemp(join(tmpdir(), 'otel-checkout-prometheus-'));
  const ruleFiles = await Promise.all(
    options.rules.map(async (text, index) => {
      const file = join(dir, `rules-${index}.yaml`);
      await writeFile(file, text);
      return file;
    }),
  );
  const config = {
    global: { scrape_interval: '1s', evaluation_interval: '1s' },
    rule_files: ruleFiles,
    scrape_configs: [{ job_name: 'collector', static_configs: [{ targets: [options.target] }] }],
  };
  await writeFile(join(dir, 'prometheus.yml'), stringify(config));
  const port = await freePort();
  const child = spawn(
    'prometheus',
    [
      `--config.file=${join(dir, 'prometheus.yml')}`,
      `--storage.tsdb.path=${join(dir, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`,
      '--log.level=info',
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await new Promise<void>((resolve, reject) => {
      let output = '';
      child.stderr.on('data', (chunk: Buffer) => {
        output += chunk.toString('utf8');
        if (output.includes('Server is ready to receive web requests.')) resolve();
      });
      child.once('error', (error) => reject(new Error(`prometheus could not run (install Debian's prometheus package): ${error.message}`)));
      child.once('exit', (code, signal) => reject(new Error(`prometheus exited (${code ?? signal}) before it was ready:\n${output}`)));
    });
  } catch (error) {
    await stop();
    throw error;
  }
  const api = async <T>(path: string): Promise<T> => {
    const response = await fetch(`${url}${path}`);
    const body = (await response.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`${path}: ${body.error ?? response.status}`);
    return body.data;
  };
  return {
    url,
    api,
    query: async (expr) => (await api<{ result: Array<{ metric: Record<string, string>; value: [number, string] }> }>(`/api/v1/query?query=${encodeURIComponent(expr)}`)).result,
    stop,
  };
}

/**
 * Awaits `probe` until it returns a value (not `undefined`), re-running it after each rule
 * evaluation would have had a chance to change the answer; fails after `timeoutMs`.
 */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) {
      const reason = last instanceof Error ? `: ${last.message}` : '';
      throw new Error(`timed out waiting for ${what}${reason}`);
    }
    // Prometheus scrapes and evaluates once a second; asking more often only repeats the answer.
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
