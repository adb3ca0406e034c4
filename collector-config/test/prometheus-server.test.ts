import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { startHttpServer } from '@otel-checkout/test-support';
import type { StartedHttpServer } from '@otel-checkout/test-support';
import { loadDashboard, substituteVariables, targetsOf } from './support/dashboard.js';
import { eventually, startPrometheus } from './support/prometheus-server.js';
import type { StartedPrometheus } from './support/prometheus-server.js';

const rulesText = readFileSync(new URL('../prometheus/payment-rules.yaml', import.meta.url), 'utf8');

interface Flows {
  labels: Record<string, string>;
  perScrape: number;
}

const production = { deployment_environment_name: 'production', service_name: 'checkout-api' };
const stable = { checkout_release: '2026.12.1', checkout_canary_cohort: 'stable', service_version: '1.4.0' };
const canary = { checkout_release: '2026.12.2', checkout_canary_cohort: 'canary', service_version: '1.5.0' };

// What the collector's Prometheus exporter would show after each second of this traffic:
// alipay healthy (105 of 111 flows succeed), wechat failing (2 of 10), a canary release
// that fails half its flows, all of them alipay's (enough of them that the canary alerts'
// minimum of 30 flows in 30 minutes is reached within a few scrapes, for the cohort and for
// alipay), one stalled alipay flow a second, an SDK
// error in one checkout of twelve, a wechat status the integration does not map every
// second, and one alipay status it does not map, once. Every series starts at its first
// value, as the exporter writes it.
const flows: Flows[] = [
  { labels: { ...production, ...stable, payment_provider: 'alipay', payment_method: 'wallet', payment_outcome: 'succeeded' }, perScrape: 100 },
  { labels: { ...production, ...stable, payment_provider: 'alipay', payment_method: 'wallet', payment_outcome: 'stalled' }, perScrape: 1 },
  { labels: { ...production, ...canary, payment_provider: 'alipay', payment_method: 'wallet', payment_outcome: 'succeeded' }, perScrape: 5 },
  {
    labels: { ...production, ...canary, payment_provider: 'alipay', payment_method: 'wallet', payment_outcome: 'failed', payment_failure_reason: 'provider_error' },
    perScrape: 5,
  },
  { labels: { ...production, ...stable, payment_provider: 'wechat', payment_method: 'wallet', payment_outcome: 'succeeded' }, perScrape: 2 },
  {
    labels: { ...production, ...stable, payment_provider: 'wechat', payment_method: 'wallet', payment_outcome: 'failed', payment_failure_reason: 'insufficient_funds' },
    perScrape: 8,
  },
];

// Shoppers back from the provider each second: most through the handoff, a few through the
// verified token, one without context (neither knows its provider) and some through the
// back-forward cache, and some reloads of the return page: the share without context
// leaves out both, 1 of 24, no alert.
const page = { deployment_environment_name: 'production', service_name: 'checkout-page', service_version: '2026.12.1' };
const returns: Flows[] = [
  { labels: { ...page, payment_provider: 'alipay', payment_method: 'wallet', payment_context_source: 'handoff' }, perScrape: 20 },
  { labels: { ...page, payment_context_source: 'verified_token' }, perScrape: 3 },
  { labels: { ...page, payment_context_source: 'none' }, perScrape: 1 },
  { labels: { ...page, payment_provider: 'alipay', payment_method: 'wallet', payment_context_source: 'back_forward_cache' }, perScrape: 4 },
  { labels: { ...page, payment_provider: 'alipay', payment_method: 'wallet', payment_context_source: 'reload' }, perScrape: 6 },
];

function labelText(labels: Record<string, string>): string {
  return Object.entries(labels)
    .map(([name, value]) => `${name}="${value}"`)
    .join(',');
}

/** Histogram lines: `count` observations a scrape, spread over the buckets as `shares` says. */
function histogram(name: string, labels: Record<string, string>, scrapes: number, count: number, shares: Record<string, number>, mean: number): string[] {
  const lines = [`# TYPE ${name} histogram`];
  let cumulative = 0;
  for (const [le, share] of Object.entries(shares)) {
    cumulative += share;
    lines.push(`${name}_bucket{${labelText({ ...labels, le })}} ${Math.round(cumulative * count * scrapes)}`);
  }
  lines.push(`${name}_bucket{${labelText({ ...labels, le: '+Inf' })}} ${count * scrapes}`);
  lines.push(`${name}_sum{${labelText(labels)}} ${mean * count * scrapes}`);
  lines.push(`${name}_count{${labelText(labels)}} ${count * scrapes}`);
  return lines;
}

/** The exposition after `scrapes` scrapes. */
function exposition(scrapes: number): string {
  const alipay = { ...production, payment_provider: 'alipay', payment_method: 'wallet' };
  const sdk = { ...page, checkout_sdk_name: 'alipay-js', checkout_sdk_version: '3.2.0' };
  return [
    '# TYPE payment_flows_total counter',
    ...flows.map((f) => `payment_flows_total{${labelText(f.labels)}} ${f.perScrape * scrapes}`),
    '# TYPE payment_callbacks_stalled_total counter',
    `payment_callbacks_stalled_total{${labelText(alipay)}} ${scrapes}`,
    ...histogram('payment_callback_latency_seconds', alipay, scrapes, 110, { '10': 0.5, '60': 0.5 }, 12),
    ...histogram('payment_flow_duration_seconds', { ...alipay, payment_stage: 'checkout', payment_outcome: 'pending' }, scrapes, 12, { '10': 0.5, '60': 0.5 }, 20),
    ...histogram('payment_flow_duration_seconds', { ...alipay, payment_stage: 'create', payment_outcome: 'pending' }, scrapes, 111, { '0.5': 1 }, 0.2),
    // wechat notifies with a status the integration's table does not map, once a second.
    '# TYPE payment_status_unmapped_total counter',
    `payment_status_unmapped_total{${labelText({ ...production, payment_provider: 'wechat', payment_stage: 'callback' })}} ${scrapes}`,
    // alipay answers one provider call with such a status, before the third scrape and never
    // again: a series that appears at 1, as the exporter writes it, and stays at 1.
    ...(scrapes >= 3 ? [`payment_status_unmapped_total{${labelText({ ...production, service_name: 'payment-gateway', payment_provider: 'alipay', payment_stage: 'provider' })}} 1`] : []),
    // The notify route refuses one wechat notification every other second (its JSON parser).
    '# TYPE payment_callbacks_refused_total counter',
    `payment_callbacks_refused_total{${labelText({ ...production, payment_provider: 'wechat', error_type: 'entity.parse.failed' })}} ${scrapes / 2}`,
    '# TYPE checkout_sdk_errors_total counter',
    `checkout_sdk_errors_total{${labelText(sdk)}} ${scrapes}`,
    // Twelve SDK calls a second, one of them failing (8%, under the per-version alert's 10%),
    // and twelve checkout pages a second with their load time and Largest Contentful Paint.
    ...histogram('checkout_sdk_duration_seconds', { ...sdk, checkout_sdk_operation: 'pay' }, scrapes, 12, { '0.5': 0.5, '1': 0.5 }, 0.5),
    ...histogram('checkout_page_load_duration_seconds', { ...page, checkout_canary_cohort: 'stable' }, scrapes, 12, { '2': 0.5, '3': 0.5 }, 2),
    ...histogram('checkout_page_lcp_duration_seconds', { ...page, checkout_canary_cohort: 'stable' }, scrapes, 12, { '2': 0.5, '2.5': 0.5 }, 2),
    '# TYPE checkout_returns_total counter',
    ...returns.map((r) => `checkout_returns_total{${labelText(r.labels)}} ${r.perScrape * scrapes}`),
    // One alipay checkout in 24 (of the twelve a second) whose redirect to the provider's page
    // did not load: 3%, under the alert's 10%, of those checkouts and the four flows a second
    // restored from the back-forward cache.
    '# TYPE checkout_provider_page_load_failures_total counter',
    `checkout_provider_page_load_failures_total{${labelText({ deployment_environment_name: 'production', service_name: 'checkout-page', payment_provider: 'alipay', payment_method: 'wallet' })}} ${scrapes / 2}`,
    '',
  ].join('\n');
}

interface RuleGroups {
  groups: Array<{ name: string; rules: Array<{ name: string; health: string; lastError?: string; type: string }> }>;
}
interface Alerts {
  alerts: Array<{ labels: Record<string, string>; state: string }>;
}

describe('the rules and the dashboard in a real Prometheus server', function () {
  this.timeout(60_000);
  let exporter: StartedHttpServer;
  let prometheus: StartedPrometheus;

  before(async () => {
    let scrapes = 0;
    exporter = await startHttpServer((request, response) => {
      if (request.url !== '/metrics') {
        response.writeHead(404).end();
        return;
      }
      scrapes += 1;
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' }).end(exposition(scrapes));
    });
    // The same rules, evaluated every second instead of every 30 seconds.
    const rules = rulesText.replace(/interval: 30s/g, 'interval: 1s');
    assert.notEqual(rules, rulesText);
    prometheus = await startPrometheus({ target: new URL(exporter.url).host, rules: [rules] });
  });

  after(async () => {
    await prometheus?.stop();
    await exporter?.close();
  });

  it('records the success rate per provider from scraped counters', async () => {
    const ratios = await eventually('two providers with a success ratio', async () => {
      const result = await prometheus.query('payment:success_ratio_by_provider:rate5m');
      return result.length === 2 ? result : undefined;
    });
    const byProvider = Object.fromEntries(ratios.map((r) => [r.metric.payment_provider, Number(r.value[1])]));
    assert.ok(Math.abs(byProvider.alipay - 105 / 111) < 1e-9, `alipay ${byProvider.alipay}`);
    assert.ok(Math.abs(byProvider.wechat - 0.2) < 1e-9, `wechat ${byProvider.wechat}`);
  });

  it('records the share of returns without context, leaving out the back-forward cache', async () => {
    const [ratio] = await eventually('the share of returns without context', async () => {
      const result = await prometheus.query('checkout:returns_unlinked_ratio:rate15m');
      return result.length === 1 ? result : undefined;
    });
    assert.equal(ratio.metric.deployment_environment_name, 'production');
    assert.ok(Math.abs(Number(ratio.value[1]) - 1 / 24) < 1e-9, `share ${ratio.value[1]}`);
  });

  it("records the share of a provider's checkouts whose page did not load, the restored flows counted", async () => {
    const [ratio] = await eventually('the share of checkouts whose provider page did not load', async () => {
      const result = await prometheus.query('checkout:provider_page_load_failed_ratio:rate15m');
      return result.length === 1 ? result : undefined;
    });
    assert.equal(ratio.metric.payment_provider, 'alipay');
    // One failure every other second, of the 12 checkouts and 4 flows restored from the
    // back-forward cache a second.
    assert.ok(Math.abs(Number(ratio.value[1]) - 1 / 32) < 1e-9, `share ${ratio.value[1]}`);
  });

  it("counts a series' first value: one unmapped status, in a series that appears at 1", async () => {
    const [rate] = await eventually('the unmapped statuses of alipay', async () => {
      const result = await prometheus.query('payment:status_unmapped_by_provider:rate15m{payment_provider="alipay"}');
      return result.length === 1 ? result : undefined;
    });
    assert.ok(Math.abs(Number(rate.value[1]) * 900 - 1) < 1e-9, `${Number(rate.value[1]) * 900} statuses in 15 minutes`);
  });

  it('evaluates every rule without an error', async () => {
    const groups = await prometheus.api<RuleGroups>('/api/v1/rules');
    const rules = groups.groups.flatMap((group) => group.rules);
    assert.equal(rules.length, 67);
    for (const rule of rules) assert.equal(rule.health, 'ok', `${rule.name}: ${rule.lastError ?? rule.health}`);
  });

  it('starts exactly the alerts the traffic calls for (pending until their `for` has passed)', async () => {
    const expected = [
      'CheckoutSdkErrorsHigh alipay-js',
      'PaymentCallbacksRefused wechat',
      'PaymentCanaryProviderWorseThanStable alipay',
      'PaymentCanaryWorseThanStable production',
      'PaymentStatusUnmapped alipay',
      'PaymentStatusUnmapped wechat',
      'PaymentSuccessRateLow wechat',
    ];
    const describe = (labels: Record<string, string>) =>
      `${labels.alertname} ${labels.payment_provider ?? labels.checkout_sdk_name ?? labels.deployment_environment_name}`;
    const alerts = await eventually('the expected alerts', async () => {
      const { alerts } = await prometheus.api<Alerts>('/api/v1/alerts');
      const names = alerts.map((alert) => describe(alert.labels)).sort();
      return expected.every((name) => names.includes(name)) ? alerts : undefined;
    });
    assert.deepEqual(alerts.map((alert) => describe(alert.labels)).sort(), expected);
    for (const alert of alerts) assert.equal(alert.state, 'pending');
  });

  it('answers every dashboard query with data', async () => {
    const queries = targetsOf(loadDashboard().panels)
      .filter((t) => t.kind === 'prometheus')
      .map((t) => ({ title: t.panel.title, expr: substituteVariables(t.target.expr!) }));
    assert.ok(queries.length >= 10);
    for (const { title, expr } of queries) {
      const result = await eventually(`data for "${title}"`, async () => {
        const series = await prometheus.query(expr);
        return series.some((s) => Number.isFinite(Number(s.value[1]))) ? series : undefined;
      });
      assert.ok(result.length > 0, title);
    }
  });
});
