import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';

/**
 * Runs a TypeScript script in a child process that prints one line once its `shutdown()`
 * resolved, and asserts that the process then exits with code 0 within `boundMs`: nothing of
 * the package may hold its event loop after shutdown. Returns what the script printed.
 */
export async function assertExitsAfterShutdown(script: string, args: string[], boundMs: number, holder: string): Promise<string> {
  const child = spawn(process.execPath, ['--conditions=@otel-checkout/source', '--import=tsx', script, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  let bound: NodeJS.Timeout | undefined;
  // A script that never gets to print (shutdown never resolved) is stopped too, well before mocha's own timeout.
  const overall = setTimeout(() => child.kill('SIGKILL'), 15_000);
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
    // Counted from the moment shutdown resolved, which is when the script prints.
    bound ??= setTimeout(() => child.kill('SIGKILL'), boundMs);
  });
  const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
  clearTimeout(bound);
  clearTimeout(overall);
  assert.notEqual(output, '', 'the script ended without saying that its shutdown resolved');
  assert.equal(signal, null, `still running ${boundMs} ms after shutdown resolved: ${holder} held the event loop (${output})`);
  assert.equal(code, 0);
  return output;
}
