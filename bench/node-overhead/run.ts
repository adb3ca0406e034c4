// bench/node-overhead: what tracing costs an Express payment route, as ratios to the same
// app without tracing, measured in one run. See README.md in this directory.
import { spawn, spawnSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { build } from 'esbuild';
import { countInstructions, instructionCountingUnavailable } from './instructions.js';
import type { InstructionCount } from './instructions.js';

const ALL_VARIANTS = ['bare', 'default', 'lean', 'standard'] as const;
/**
 * Not part of the targets: async context propagation alone (the floor of any OpenTelemetry
 * setup on this Node), one span per request made by hand with the plain SDK (the floor of
 * any setup that records the payment route), and the standard setup with
 * instrumentation-http alone (what its server span costs).
 */
const DIAGNOSTIC_VARIANTS = ['context', 'span', 'httponly'] as const;
type Variant = (typeof ALL_VARIANTS)[number] | (typeof DIAGNOSTIC_VARIANTS)[number];
// BENCH_VARIANTS=bare,context,lean and BENCH_ROUNDS=1 give a quick partial run while tuning; targets need the four.
// A full run includes the diagnostic variant too: it shows the floor every OpenTelemetry setup pays on this Node.
const VARIANTS: readonly Variant[] = process.env.BENCH_VARIANTS
  ? [...ALL_VARIANTS, ...DIAGNOSTIC_VARIANTS].filter((variant) => process.env.BENCH_VARIANTS!.split(',').includes(variant))
  : [...ALL_VARIANTS, ...DIAGNOSTIC_VARIANTS];

// Many short rounds rather than a few long ones: on a shared 2-core machine single windows of
// the same variant differ by up to 1.5x, and the median of seven is steadier than that of five.
const ROUNDS = Number(process.env.BENCH_ROUNDS) || 7;
/** BENCH_TIME=0 skips the timed rounds: only the instruction counts, which need no quiet machine. */
const TIMED = process.env.BENCH_TIME !== '0';
/** The first window of a server warms up its JIT; later ones only refill the connections. */
const FIRST_WARMUP_SECONDS = 3;
const WARMUP_SECONDS = 1;
const MEASURE_SECONDS = 3;
const CONNECTIONS = 10;

/** A JSON body of about 500 bytes, like a checkout's create-payment request. */
const BODY = JSON.stringify({
  tradeNo: '2026112200012345',
  orderId: 'ord-7f3c9a2e-5b1d-4c8e-9f00-123456789abc',
  provider: 'acme-pay',
  method: 'card',
  amount: 12990,
  currency: 'EUR',
  merchantId: 'merchant-0042',
  returnUrl: 'https://shop.example.com/checkout/return?order=ord-7f3c9a2e',
  notifyUrl: 'https://api.shop.example.com/payments/notify',
  customer: { id: 'cust-99812', email: 'shopper@example.com', locale: 'de-DE' },
  items: [
    { sku: 'SKU-1001', name: 'Trail running shoes', quantity: 1, price: 99.9 },
    { sku: 'SKU-2002', name: 'Merino socks (3 pairs)', quantity: 1, price: 30.0 },
  ],
});

interface Measurement {
  reqPerSec: number;
  p50: number;
  p99: number;
  cpuMicrosPerRequest: number;
  userMicrosPerRequest: number;
  systemMicrosPerRequest: number;
  requests: number;
  errors: number;
  /** Share of the machine's CPU time the hypervisor took during the window, in percent. */
  stealPercent: number;
  attempts: number;
}

interface Child {
  variant: Variant;
  process: ChildProcess;
  port: number;
}

/** The loopback OTLP sink: answers every export with success and counts the bytes per variant (the URL path). */
function startSink(): Promise<{ server: Server; url: string; bytesOf: (variant: Variant) => number }> {
  const bytes = new Map<string, number>();
  const server = createServer((req, res) => {
    const variant = (req.url ?? '').split('/').pop() ?? '';
    req.on('data', (chunk: Buffer) => bytes.set(variant, (bytes.get(variant) ?? 0) + chunk.length));
    req.on('end', () => {
      // An empty ExportTraceServiceResponse is a valid answer in both encodings.
      const json = String(req.headers['content-type']).includes('json');
      res.writeHead(200, { 'content-type': json ? 'application/json' : 'application/x-protobuf' });
      res.end(json ? '{}' : '');
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({ server, url: `http://127.0.0.1:${(server.address() as { port: number }).port}/v1/traces`, bytesOf: (variant) => bytes.get(variant) ?? 0 }),
    ),
  );
}

/**
 * The server compiled the way a user runs it (plain JavaScript, no on-the-fly TypeScript
 * loader and its helpers), with this repository's packages bundled from source and every
 * third-party package left external, so the OpenTelemetry instrumentations patch the real
 * `express` and `http` modules exactly as in an application.
 */
async function buildServer(outdir: string): Promise<string> {
  const outfile = join(outdir, 'server.cjs');
  await build({
    entryPoints: [join(__dirname, 'server.ts')],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    conditions: ['@otel-checkout/source'],
    packages: 'bundle',
    external: ['express', '@opentelemetry/*', '@fastify/otel', 'redis'],
    logLevel: 'error',
  });
  return outfile;
}

/**
 * On a machine with two or more cores, servers run on the last core and this process (the
 * load generator and the sink) on the others, so the two never take turns on one core: that
 * contention, not tracing, made single rounds of the same variant differ by up to 1.5x.
 */
const PINNING = ((): { server: string; runner: string } | undefined => {
  const count = cpus().length;
  if (count < 2 || process.env.BENCH_PIN === '0' || spawnSync('taskset', ['-V']).status !== 0) return undefined;
  return { server: String(count - 1), runner: count === 2 ? '0' : `0-${count - 2}` };
})();

function startChild(script: string, variant: Variant, sink: string): Promise<Child> {
  const args = [join(process.cwd(), script), variant, sink];
  const child = spawn(PINNING ? 'taskset' : process.execPath, PINNING ? ['-c', PINNING.server, process.execPath, ...args] : args, {
    // The standard setup would otherwise also start OTLP metrics and logs exporters.
    env: { ...process.env, OTEL_METRICS_EXPORTER: 'none', OTEL_LOGS_EXPORTER: 'none', OTEL_LOG_LEVEL: 'none' },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${variant} server exited with ${code}`)));
    child.on('message', (message: { type: string; port?: number }) => {
      if (message.type === 'ready') resolve({ variant, process: child, port: message.port! });
    });
  });
}

interface CpuAnswer {
  micros?: number;
  userMicros?: number;
  systemMicros?: number;
}

function request(child: Child, type: string, answer: string): Promise<CpuAnswer> {
  return new Promise((resolve) => {
    const onMessage = (message: CpuAnswer & { type: string }): void => {
      if (message.type !== answer) return;
      child.process.off('message', onMessage);
      resolve(message);
    };
    child.process.on('message', onMessage);
    child.process.send({ type });
  });
}

/** The payment request every window sends, for `seconds` or (counted under callgrind, where a server is ~50x slower) for `amount` requests. */
function load(port: number, limit: { seconds: number } | { amount: number }): Promise<autocannon.Result> {
  return autocannon({
    url: `http://127.0.0.1:${port}/pay`,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: BODY,
    connections: CONNECTIONS,
    ...('seconds' in limit ? { duration: limit.seconds } : { amount: limit.amount, timeout: 120 }),
  });
}

const requestsServed: Record<string, number> = {};

/** The machine's CPU time so far and the part of it the hypervisor gave to other guests (steal), in clock ticks; Linux only. */
function cpuTicks(): { steal: number; total: number } | undefined {
  try {
    const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal ...: steal is the eighth.
    return { steal: fields[7] ?? 0, total: fields.slice(0, 8).reduce((sum, value) => sum + value, 0) };
  } catch {
    return undefined;
  }
}

/**
 * A measurement window during which the hypervisor took more than this share of the
 * machine's CPU time is measured again: on a shared virtual machine such windows were up to
 * 1.6x slower for every variant alike, which no interleaving evens out.
 */
const STEAL_LIMIT = 0.03;
const MAX_ATTEMPTS = 4;

const warmedUp = new Set<Variant>();

async function measure(child: Child): Promise<Measurement> {
  for (let attempt = 1; ; attempt += 1) {
    const warmup = await load(child.port, { seconds: warmedUp.has(child.variant) ? WARMUP_SECONDS : FIRST_WARMUP_SECONDS });
    warmedUp.add(child.variant);
    requestsServed[child.variant] = (requestsServed[child.variant] ?? 0) + warmup.requests.total;
    await request(child, 'cpu-start', 'cpu-started');
    const ticksBefore = cpuTicks();
    const result = await load(child.port, { seconds: MEASURE_SECONDS });
    const ticksAfter = cpuTicks();
    const { micros, userMicros, systemMicros } = await request(child, 'cpu-stop', 'cpu');
    const requests = result.requests.total;
    requestsServed[child.variant] = (requestsServed[child.variant] ?? 0) + requests;
    const stealShare =
      ticksBefore && ticksAfter ? (ticksAfter.steal - ticksBefore.steal) / Math.max(1, ticksAfter.total - ticksBefore.total) : 0;
    if (stealShare > STEAL_LIMIT && attempt < MAX_ATTEMPTS) {
      process.stdout.write(`        ${child.variant}: ${(stealShare * 100).toFixed(1)}% of the CPU was stolen by the hypervisor; measuring again\n`);
      continue;
    }
    const perRequest = (value: number | undefined): number => (requests > 0 && value !== undefined ? value / requests : Number.NaN);
    return {
      reqPerSec: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      cpuMicrosPerRequest: perRequest(micros),
      userMicrosPerRequest: perRequest(userMicros),
      systemMicrosPerRequest: perRequest(systemMicros),
      requests,
      errors: result.errors + result.non2xx,
      stealPercent: Math.round(stealShare * 1000) / 10,
      attempts: attempt,
    };
  }
}

type InstructionReport =
  | { skipped: string }
  | {
      simulatedCache: string;
      perVariant: Partial<Record<Variant, InstructionCount>>;
      ratiosToBare: Partial<Record<Variant, { instructions: number; cacheMisses: number }>>;
      targets: Array<{ name: string; value: number; limit: number; pass: boolean }>;
    };

/**
 * Every variant counted under callgrind, one at a time, and the two targets evaluated on the
 * counts as a cross-check of the timed ones: on a shared machine the timed ratios move between
 * runs by more than the targets' margins, the counts much less (bare counted 870k–900k
 * instructions per request over four runs). One at a time because the counts do depend on
 * timing a little: a server slowed by a second one under valgrind exports in other batches
 * and collects garbage at other moments, which moved its cache misses by up to 15%.
 */
async function countAll(script: string, sinkUrl: string): Promise<InstructionReport> {
  const unavailable = instructionCountingUnavailable();
  if (unavailable !== undefined) {
    process.stdout.write(`instruction counts skipped: ${unavailable}\n`);
    return { skipped: unavailable };
  }
  const perVariant: Partial<Record<Variant, InstructionCount>> = {};
  for (const variant of VARIANTS) {
    const count = await countInstructions(script, variant, `${sinkUrl}-${variant}`, (port, amount) => load(port, { amount }));
    perVariant[variant] = count;
    process.stdout.write(
      `callgrind ${variant.padEnd(8)} ${count.instructionsPerRequest} instructions/req, ${count.cacheMissesPerRequest} misses/req of a 1 MiB cache (code ${count.codeCacheMissesPerRequest}, data ${count.dataCacheMissesPerRequest})\n`,
    );
  }
  const bare = perVariant.bare;
  const ratiosToBare = Object.fromEntries(
    Object.entries(perVariant).map(([variant, count]) => [
      variant,
      bare
        ? { instructions: round3(count.instructionsPerRequest / bare.instructionsPerRequest), cacheMisses: round3(count.cacheMissesPerRequest / bare.cacheMissesPerRequest) }
        : { instructions: Number.NaN, cacheMisses: Number.NaN },
    ]),
  ) as Partial<Record<Variant, { instructions: number; cacheMisses: number }>>;
  const targets: Array<{ name: string; value: number; limit: number; pass: boolean }> = [];
  const { default: defaultMode, lean, standard } = ratiosToBare;
  if (defaultMode && standard) {
    for (const measure of ['instructions', 'cacheMisses'] as const) {
      const overhead = defaultMode[measure] - 1;
      const limit = (standard[measure] - 1) / 2;
      targets.push({ name: `(${measure}) default mode's overhead per request is at most half of the standard setup's`, value: round3(overhead), limit: round3(limit), pass: overhead <= limit });
    }
  }
  if (lean) {
    for (const measure of ['instructions', 'cacheMisses'] as const) {
      targets.push({ name: `(${measure}) lean mode per request <= 1.3x bare`, value: lean[measure], limit: 1.3, pass: lean[measure] <= 1.3 });
    }
  }
  for (const target of targets) process.stdout.write(`${target.pass ? 'pass' : 'miss'} ${target.name}: ${target.value} (limit ${target.limit})\n`);
  return { simulatedCache: '1 MiB, 16-way, 64-byte lines (last level)', perVariant, ratiosToBare, targets };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

const round3 = (value: number): number => Math.round(value * 1000) / 1000;

async function main(): Promise<void> {
  if (PINNING) spawnSync('taskset', ['-p', '-c', PINNING.runner, String(process.pid)]);
  // Inside the repository's node_modules, so the bundle resolves the installed third-party packages.
  mkdirSync(join('node_modules', '.cache'), { recursive: true });
  const outdir = mkdtempSync(join('node_modules', '.cache', 'node-overhead-'));
  const script = await buildServer(outdir);
  const sink = await startSink();
  const children: Child[] = [];
  for (const variant of VARIANTS) children.push(await startChild(script, variant, `${sink.url}/${variant}`));
  const exportedBytes: Record<string, number> = {};
  const runs: Record<Variant, Measurement[]> = { bare: [], default: [], lean: [], standard: [], context: [], span: [], httponly: [] };
  const pairedCpuRatios: Record<Variant, number[]> = { bare: [], default: [], lean: [], standard: [], context: [], span: [], httponly: [] };
  let instructions: InstructionReport;
  try {
    const bareChild = children.find((child) => child.variant === 'bare');
    const others = children.filter((child) => child.variant !== 'bare');
    const record = async (child: Child, round: number): Promise<Measurement> => {
      const measurement = await measure(child);
      runs[child.variant].push(measurement);
      process.stdout.write(
        `round ${round + 1} ${child.variant.padEnd(8)} ${measurement.reqPerSec.toFixed(0).padStart(6)} req/s  p50 ${measurement.p50} ms  p99 ${measurement.p99} ms  ${measurement.cpuMicrosPerRequest.toFixed(1)} us CPU/req (user ${measurement.userMicrosPerRequest.toFixed(1)}, system ${measurement.systemMicrosPerRequest.toFixed(1)}, steal ${measurement.stealPercent}%)\n`,
      );
      return measurement;
    };
    for (let round = 0; TIMED && round < ROUNDS; round += 1) {
      // Every variant between two windows of bare (bare, A, bare, B, bare, ...): its ratio for
      // the round is to the mean of its two neighbours, which share the machine's condition of
      // the moment far better than windows a minute apart.
      const order = balancedOrder(others, round);
      let before = bareChild ? await record(bareChild, round) : undefined;
      for (const child of order) {
        const measurement = await record(child, round);
        const after = bareChild ? await record(bareChild, round) : undefined;
        if (before && after) {
          pairedCpuRatios[child.variant].push(measurement.cpuMicrosPerRequest / ((before.cpuMicrosPerRequest + after.cpuMicrosPerRequest) / 2));
        }
        before = after;
      }
    }
    // Let every server export what it still holds (the export delay is at most 5 s) before counting bytes.
    if (TIMED) await new Promise((resolve) => setTimeout(resolve, 6000));
    for (const child of VARIANTS) exportedBytes[child] = sink.bytesOf(child);
    for (const child of children) child.process.kill();
    instructions = await countAll(script, `${sink.url}/callgrind`);
  } finally {
    for (const child of children) child.process.kill();
    sink.server.close();
    rmSync(outdir, { recursive: true, force: true });
  }
  if (!TIMED || !ALL_VARIANTS.every((variant) => VARIANTS.includes(variant)) || process.env.BENCH_VARIANTS !== undefined) return;

  const summary = Object.fromEntries(
    VARIANTS.map((variant) => [
      variant,
      {
        reqPerSec: round3(median(runs[variant].map((m) => m.reqPerSec))),
        p50Ms: median(runs[variant].map((m) => m.p50)),
        p99Ms: median(runs[variant].map((m) => m.p99)),
        cpuMicrosPerRequest: round3(median(runs[variant].map((m) => m.cpuMicrosPerRequest))),
        userMicrosPerRequest: round3(median(runs[variant].map((m) => m.userMicrosPerRequest))),
        systemMicrosPerRequest: round3(median(runs[variant].map((m) => m.systemMicrosPerRequest))),
        errors: runs[variant].reduce((sum, m) => sum + m.errors, 0),
        // What reached the collector: a setup that drops spans under load looks cheaper than it is.
        exportedBytesPerRequest: round3(exportedBytes[variant] / Math.max(1, requestsServed[variant] ?? 0)),
      },
    ]),
  ) as Record<
    Variant,
    { reqPerSec: number; p50Ms: number; p99Ms: number; cpuMicrosPerRequest: number; userMicrosPerRequest: number; systemMicrosPerRequest: number; errors: number; exportedBytesPerRequest: number }
  >;
  const bare = summary.bare;
  const ratios = Object.fromEntries(
    VARIANTS.map((variant) => [
      variant,
      {
        reqPerSec: round3(summary[variant].reqPerSec / bare.reqPerSec),
        p50: round3(summary[variant].p50Ms / Math.max(bare.p50Ms, 0.001)),
        p99: round3(summary[variant].p99Ms / Math.max(bare.p99Ms, 0.001)),
        cpuPerRequest: round3(summary[variant].cpuMicrosPerRequest / bare.cpuMicrosPerRequest),
      },
    ]),
  ) as Record<Variant, { reqPerSec: number; p50: number; p99: number; cpuPerRequest: number }>;
  // CPU per request against the neighbouring bare windows, median over the rounds: what the targets use.
  const paired = Object.fromEntries(
    VARIANTS.filter((variant) => variant !== 'bare').map((variant) => [variant, round3(median(pairedCpuRatios[variant]))]),
  ) as Record<Exclude<Variant, 'bare'>, number>;
  const defaultOverhead = paired.default - 1;
  const standardOverhead = paired.standard - 1;
  const targets = [
    {
      name: "default mode's CPU overhead per request is at most half of the standard setup's",
      value: round3(defaultOverhead),
      limit: round3(standardOverhead / 2),
      pass: defaultOverhead <= standardOverhead / 2,
    },
    { name: 'lean mode CPU per request <= 1.3x bare', value: paired.lean, limit: 1.3, pass: paired.lean <= 1.3 },
  ];
  const result = {
    benchmark: 'node-overhead',
    date: new Date().toISOString(),
    node: process.version,
    cpus: cpus().length,
    config: {
      build: 'esbuild bundle of the repository packages (third-party packages external)',
      pinning: PINNING ? { serverCpu: PINNING.server, loadGeneratorCpus: PINNING.runner } : 'none',
      stealLimitPercent: STEAL_LIMIT * 100,
      rounds: ROUNDS,
      firstWarmupSeconds: FIRST_WARMUP_SECONDS,
      warmupSeconds: WARMUP_SECONDS,
      measureSeconds: MEASURE_SECONDS,
      connections: CONNECTIONS,
      bodyBytes: Buffer.byteLength(BODY),
      sampling: '100%',
      exporter: 'OTLP/HTTP protobuf to a loopback sink',
    },
    summary,
    ratiosToBare: ratios,
    pairedCpuRatiosToBare: paired,
    targets,
    instructions,
    runs,
    pairedCpuRatiosPerRound: pairedCpuRatios,
  };
  mkdirSync(join('bench', 'results'), { recursive: true });
  writeFileSync(join('bench', 'results', 'node-overhead.json'), `${JSON.stringify(result, null, 2)}\n`);
  for (const target of targets) process.stdout.write(`${target.pass ? 'PASS' : 'FAIL'} ${target.name}: ${target.value} (limit ${target.limit})\n`);
  process.stdout.write(`CPU per request against the neighbouring bare windows: ${JSON.stringify(paired)}\n`);
  process.stdout.write(`ratios of the medians to bare's: ${JSON.stringify(ratios)}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exit(1);
});

/**
 * The variants' order in round `round`: a Williams design (0, 1, n-1, 2, n-2, ... shifted by
 * the round), in which, over n rounds of an even number n of variants, each variant comes right
 * after every other one exactly once. A plain rotation puts each variant after the same one in
 * almost every round, and what a server leaves behind on the shared core (a late export, a
 * collection) then weighs on the same neighbour each time.
 */
function balancedOrder<T>(variants: readonly T[], round: number): T[] {
  const n = variants.length;
  return variants.map((_, j) => variants[((j % 2 === 1 ? (j + 1) / 2 : (n - j / 2) % n) + round) % n]);
}
