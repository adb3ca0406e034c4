import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';

export interface PromtoolResult {
  code: number;
  output: string;
}

/** Runs Debian's `promtool` (package `prometheus`; the test command installs it when missing). */
export function promtool(...args: string[]): Promise<PromtoolResult> {
  return new Promise((resolve, reject) => {
    execFile('promtool', args, { timeout: 60_000 }, (error, stdout, stderr) => {
      if (error && typeof error.code !== 'number') {
        reject(new Error(`promtool could not run (install Debian's prometheus package): ${error.message}`));
        return;
      }
      resolve({ code: typeof error?.code === 'number' ? error.code : 0, output: `${stdout}${stderr}` });
    });
  });
}

/** Runs `fn` with a fresh temporary directory, removed afterwards. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'otel-checkout-collector-config-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Parses PromQL expressions with Prometheus's own parser: each becomes a recording rule in a
 * temporary file that `promtool check rules` reads. Resolves with promtool's verdict.
 */
export function checkExpressions(expressions: readonly string[]): Promise<PromtoolResult> {
  return withTempDir(async (dir) => {
    const file = join(dir, 'expressions.yaml');
    const rules = expressions.map((expr, index) => ({ record: `expression:${index}`, expr }));
    await writeFile(file, stringify({ groups: [{ name: 'expressions', rules }] }));
    return promtool('check', 'rules', file);
  });
}
