// Instructions and cache misses per request of one benchmark server, counted by callgrind:
// a measure of the work tracing adds that the machine's neighbours cannot blur.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import type autocannon from 'autocannon';

/** Requests served before counting starts: enough for V8 to optimise the request path (under valgrind it runs ~50x slower). */
const WARMUP_REQUESTS = 3000;
/** Requests counted: several export batches' worth, so exporting is counted at its share. */
const COUNTED_REQUESTS = 2000;
/**
 * The last-level cache callgrind simulates: 1 MiB, 16-way, like one core's L2 on current
 * server CPUs. On a shared machine what misses there goes to an L3 the neighbours contend for,
 * so these misses, far more than instructions, are what a request's CPU time follows.
 */
const SIMULATED_CACHE = '1048576,16,64';

export interface InstructionCount {
  instructionsPerRequest: number;
  /** Misses of the simulated 1 MiB cache per request: code (instruction fetches) and data. */
  cacheMissesPerRequest: number;
  codeCacheMissesPerRequest: number;
  dataCacheMissesPerRequest: number;
  requests: number;
}

/** Why counting cannot run here, or undefined when valgrind's callgrind and callgrind_control are installed. */
export function instructionCountingUnavailable(): string | undefined {
  if (process.env.BENCH_INSTRUCTIONS === '0') return 'turned off with BENCH_INSTRUCTIONS=0';
  for (const tool of ['valgrind', 'callgrind_control']) {
    if (spawnSync(tool, ['--version']).status !== 0) return `${tool} is not installed (apt-get install valgrind)`;
  }
  return undefined;
}

/**
 * Runs `script` for `variant` under callgrind, serves a warm-up with counting off, then counts
 * `COUNTED_REQUESTS` requests, all sent by `load` (the same POST the timed rounds send).
 * Counting covers every thread of the server (V8's compiler and GC helpers included) in user
 * space; the kernel's share (sockets) is not counted.
 */
export async function countInstructions(
  script: string,
  variant: string,
  sinkUrl: string,
  load: (port: number, amount: number) => Promise<autocannon.Result>,
): Promise<InstructionCount> {
  const outdir = mkdtempSync(join('node_modules', '.cache', `callgrind-${variant}-`));
  const child = spawn(
    'taskset',
    [
      // Any core: the runner pinned itself, and counts do not depend on where the server runs.
      '-c',
      `0-${cpus().length - 1}`,
      'valgrind',
      '--tool=callgrind',
      '--instr-atstart=no',
      // V8 writes and rewrites machine code at run time.
      '--smc-check=all-non-file',
      '--cache-sim=yes',
      `--LL=${SIMULATED_CACHE}`,
      `--callgrind-out-file=${join(outdir, 'callgrind.out')}`,
      process.execPath,
      script,
      variant,
      sinkUrl,
    ],
    {
      env: { ...process.env, OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none', OTEL_LOG_LEVEL: 'none' },
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr = (stderr + String(chunk)).slice(-4000)));
  try {
    const port = await readyPort(child, () => stderr);
    await load(port, WARMUP_REQUESTS);
    control(child, '--instr=on');
    const counted = await load(port, COUNTED_REQUESTS);
    control(child, '--instr=off');
    control(child, '--dump');
    const requests = counted.requests.total;
    if (counted.errors + counted.non2xx > 0) throw new Error(`${variant}: ${counted.errors + counted.non2xx} requests failed under callgrind`);
    const totals = readTotals(outdir);
    const perRequest = (value: number): number => Math.round(value / requests);
    const code = totals.ILmr ?? 0;
    const data = (totals.DLmr ?? 0) + (totals.DLmw ?? 0);
    return {
      instructionsPerRequest: perRequest(totals.Ir ?? 0),
      cacheMissesPerRequest: perRequest(code + data),
      codeCacheMissesPerRequest: perRequest(code),
      dataCacheMissesPerRequest: perRequest(data),
      requests,
    };
  } finally {
    child.kill('SIGKILL');
    rmSync(outdir, { recursive: true, force: true });
  }
}

function readyPort(child: ChildProcess, stderr: () => string): Promise<number> {
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`server under callgrind exited with ${code}: ${stderr()}`)));
    child.on('message', (message: { type: string; port?: number }) => {
      if (message.type === 'ready') resolve(message.port!);
    });
  });
}

function control(child: ChildProcess, command: string): void {
  const result = spawnSync('callgrind_control', [command, String(child.pid)], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`callgrind_control ${command} failed: ${result.stderr}`);
}

/** Sums the `totals:` of every dump callgrind wrote, by event name (Ir, ILmr, DLmr, DLmw...). */
function readTotals(outdir: string): Record<string, number> {
  const sums: Record<string, number> = {};
  for (const file of readdirSync(outdir)) {
    const text = readFileSync(join(outdir, file), 'utf8');
    const events = /^events: (.+)$/m.exec(text)?.[1].trim().split(/\s+/);
    const totals = /^totals: (.+)$/m.exec(text)?.[1].trim().split(/\s+/).map(Number);
    if (!events || !totals) continue;
    events.forEach((name, i) => (sums[name] = (sums[name] ?? 0) + (totals[i] ?? 0)));
  }
  if (sums.Ir === undefined) throw new Error('callgrind wrote no counts');
  return sums;
}
