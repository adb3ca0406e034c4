import { MemoryFlowStore, RedisFlowStore } from '@otel-checkout/node';
import { startOtlpReceiver } from '@otel-checkout/test-support';
import type { OtlpReceiver, TraceTree } from '@otel-checkout/test-support';
import { ATTR_CHECKOUT_CANARY_COHORT, SPAN_NAME_PAYMENT_CHECKOUT } from '@otel-checkout/semantic-conventions/incubating';
import { attributeText } from './attribute-text.js';
import { startBackend } from './backend.js';
import { startBank } from './bank.js';
import { launchBrowser } from './browser.js';
import type { DemoOptions } from './options.js';
import { bundlePages } from './page-bundle.js';
import { drawTree, whereToLook } from './report.js';
import { selectScenarios } from './scenarios.js';
import type { Scenario } from './scenarios.js';
import { playScenario } from './shopper.js';
import type { ShopperWorld } from './shopper.js';
import { formatSummary, summarise } from './summary.js';
import type { DemoSummary, FlowResult } from './summary.js';
import { checkFlow, finalOutcome } from './trace-shape.js';
import { startBackendTracing } from './tracing.js';

export interface DemoResult {
  readonly results: readonly FlowResult[];
  readonly summary: DemoSummary;
  /** Every scenario produced its expected trace. */
  readonly ok: boolean;
}

/** How long after a flow's deadline the sweeper (every 250 ms) has surely swept it, export included. */
const SWEEP_MARGIN_MS = 2000;

/**
 * Starts the receiver, the bank, the shop and Chromium, plays every scenario, prints each
 * flow's trace and the summary through `out`, and stops everything. Tracing is global to
 * the process: run it once per process.
 */
export async function runDemo(options: DemoOptions, out: (line: string) => void = console.log): Promise<DemoResult> {
  const scenarios = selectScenarios(options.scenarios);
  const receiver = await startOtlpReceiver();
  const targets = [receiver.tracesUrl, ...(options.otlpEndpoint ? [tracesUrl(options.otlpEndpoint)] : [])];
  const [pages, bank, browser] = await Promise.all([bundlePages(), startBank(), launchBrowser(options.chromium)]);
  const relayFailures = new Set<string>();
  const backend = await startBackend({ bankUrl: bank.url, pages, otlpTargets: targets, onExportFailure: (target, why) => relayFailures.add(`${target} failed: ${why}`) });
  const store = options.redisUrl ? new RedisFlowStore({ url: options.redisUrl }) : new MemoryFlowStore();
  const tracing = startBackendTracing({ endpoint: `${backend.url}/v1/traces`, store, stalledAfterSeconds: options.stalledAfterSeconds });
  out(`Shop ${backend.url}  bank ${bank.url}  spans → ${targets.join(' and ')}`);
  out(`Playing ${scenarios.length} checkouts (stalled after ${options.stalledAfterSeconds} s)…\n`);

  const run = Date.now().toString(36).toUpperCase();
  const world: ShopperWorld = { browser, shopUrl: backend.url, bank, receiver, timeoutMs: options.timeoutSeconds * 1000 };
  let flows: SettledFlow[];
  let health: Record<string, number>;
  try {
    flows = await inParallel(scenarios, options.concurrency, async (scenario, i) => {
      const tradeNo = `DEMO-${run}-${i + 1}`;
      bank.plan(tradeNo, scenario.bank);
      const failure = await playScenario(world, scenario, tradeNo).then(
        () => undefined,
        (error: unknown) => `the shopper could not finish: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`,
      );
      // A flow that must never stall is only judged once its deadline (and a sweep) has passed.
      const quietMs = scenario.bank.refuse ? options.stalledAfterSeconds * 1000 + SWEEP_MARGIN_MS : 0;
      return settleFlow(receiver, scenario, tradeNo, failure, options.timeoutSeconds * 1000, quietMs);
    });
    await tracing.flush();
    health = { ...tracing.health() };
  } finally {
    await browser.close();
    await tracing.shutdown();
    await Promise.all([backend.close(), bank.close()]);
    await receiver.close();
  }

  for (const [i, flow] of flows.entries()) {
    const scenario = scenarios[i];
    out(`${flow.problems.length === 0 ? 'OK ' : 'BAD'} ${scenario.name}  trade ${flow.tradeNo}  ${scenario.provider}  → ${flow.outcome}${flow.reason ? ` (${flow.reason})` : ''}`);
    out(`    ${scenario.lesson}`);
    for (const tree of flow.trees) for (const line of drawTree(tree, '    ')) out(line);
    for (const problem of flow.problems) out(`    ✗ ${problem}`);
    out('');
  }
  const summary = summarise(flows, health);
  for (const line of formatSummary(summary)) out(line);
  for (const failure of relayFailures) out(`Export to ${failure}`);
  out(whereToLook(flows.map((f) => f.tradeNo), options.otlpEndpoint));
  return { results: flows, summary, ok: summary.failed.length === 0 };
}

interface SettledFlow extends FlowResult {
  readonly trees: readonly TraceTree[];
}

/**
 * Waits until the flow's trace has its expected shape (spans arrive late: callbacks, sweeper,
 * page exports) or time runs out; and, with `quietMs`, until that much time has passed, so
 * that a span that must never come (a stalled span) had its chance to.
 */
async function settleFlow(
  receiver: OtlpReceiver,
  scenario: Scenario,
  tradeNo: string,
  failure: string | undefined,
  timeoutMs: number,
  quietMs: number,
): Promise<SettledFlow> {
  const deadline = Date.now() + Math.max(timeoutMs, quietMs);
  const quietUntil = Date.now() + quietMs;
  let check = checkFlow(receiver.spans, scenario, tradeNo);
  while ((check.problems.length > 0 || Date.now() < quietUntil) && failure === undefined && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    check = checkFlow(receiver.spans, scenario, tradeNo);
  }
  const checkoutSpan = check.tree?.nodes.find((n) => n.span.name === SPAN_NAME_PAYMENT_CHECKOUT)?.span;
  return {
    scenario: scenario.name,
    tradeNo,
    provider: scenario.provider,
    cohort: attributeText(checkoutSpan?.attributes[ATTR_CHECKOUT_CANARY_COHORT] ?? 'none'),
    ...finalOutcome(check.tree),
    problems: failure === undefined ? check.problems : [failure, ...check.problems],
    trees: [...(check.tree ? [check.tree] : []), ...check.forged],
  };
}

/** Runs `work` over `items`, at most `limit` at a time; results in the order of `items`. */
async function inParallel<T, R>(items: readonly T[], limit: number, work: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await work(items[index], index);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

/** `http://host:4318` → `http://host:4318/v1/traces`, as the OTLP exporter environment variable means it. */
function tracesUrl(endpoint: string): string {
  return endpoint.endsWith('/v1/traces') ? endpoint : `${endpoint.replace(/\/+$/, '')}/v1/traces`;
}
