import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { copyFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { collectorSeries, loadCollectorConfig } from './support/collector-config.js';
import { promtool, withTempDir } from './support/promtool.js';
import { prometheusLabel, registryAttributes } from './support/registry.js';

const rulesFile = fileURLToPath(new URL('../prometheus/payment-rules.yaml', import.meta.url));
const testsFile = fileURLToPath(new URL('../prometheus/payment-rules.test.yaml', import.meta.url));
const rulesText = readFileSync(rulesFile, 'utf8');
const testsText = readFileSync(testsFile, 'utf8');
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** Runs the unit tests against a changed copy of the rules. */
function unitTestsWith(rules: string): Promise<{ code: number; output: string }> {
  return withTempDir(async (dir) => {
    await writeFile(join(dir, 'payment-rules.yaml'), rules);
    await writeFile(join(dir, 'payment-rules.test.yaml'), testsText);
    return promtool('test', 'rules', join(dir, 'payment-rules.test.yaml'));
  });
}

function changed(rules: string, from: string, to: string): string {
  assert.ok(rules.includes(from), `the rules contain ${from}`);
  return rules.replace(from, to);
}

interface RuleFile {
  groups: Array<{ name: string; rules: Array<{ record?: string; alert?: string; expr: string }> }>;
}

/** The rules with one recording rule's expression replaced. */
function withExpression(rules: string, record: string, expr: string): string {
  const file = parse(rules) as RuleFile;
  const rule = file.groups.flatMap((group) => group.rules).find((r) => r.record === record);
  assert.ok(rule, `the rules record ${record}`);
  rule.expr = expr;
  return stringify(file);
}

const WINDOW_SECONDS: Record<string, number> = { '5m': 300, '15m': 900, '30m': 1800 };

/**
 * A raw collector series' rate over a window that also counts the first value of a series that
 * had no sample in the window before (the exporter writes a series at its first event, already
 * counted; rate() alone never counts it).
 */
function firstValueRate(metric: string, window: string): string {
  const seconds = WINDOW_SECONDS[window];
  const first = `(min_over_time(${metric}[${window}]) unless count_over_time(${metric}[${window}] offset ${window})) / ${seconds}`;
  return `( rate(${metric}[${window}]) + ${first} ) or rate(${metric}[${window}]) or ${first}`;
}

/** `series:payment_flows:rate5m` for `payment_flows_total` over 5m; histograms keep `_bucket` and `_count`. */
function firstValueRecord(metric: string, window: string): string {
  return `series:${metric.replace(/_total$/, '')}:rate${window}`;
}

const normalized = (expr: string) => expr.replace(/\s+/g, ' ').trim();
const RAW_SERIES = /(?<![\w:])((?:payment|checkout)_[a-z_]+(?:_total|_bucket|_count|_sum))(?![\w:])/g;

describe('Prometheus rules', () => {
  it('pass promtool check rules', async () => {
    const result = await promtool('check', 'rules', rulesFile);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /SUCCESS: 67 rules found/);
  });

  it("load as the README's prometheus.yml shows (promtool check config)", async () => {
    const example = /```yaml\n# prometheus\.yml\n([\s\S]*?)```/.exec(readme);
    assert.ok(example, 'README.md shows a prometheus.yml');
    const config = parse(example[1]) as { rule_files: string[]; scrape_configs: Array<{ static_configs: Array<{ targets: string[] }> }> };
    assert.deepEqual(config.rule_files, ['payment-rules.yaml']);
    const port = /:(\d+)$/.exec((loadCollectorConfig().exporters.prometheus as { endpoint: string }).endpoint)![1];
    assert.ok(config.scrape_configs.some((job) => job.static_configs.some((c) => c.targets.some((t) => t.endsWith(`:${port}`)))), `scrapes the collector's exporter on ${port}`);
    const result = await withTempDir(async (dir) => {
      await writeFile(join(dir, 'prometheus.yml'), example[1]);
      await copyFile(rulesFile, join(dir, 'payment-rules.yaml'));
      return promtool('check', 'config', join(dir, 'prometheus.yml'));
    });
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /SUCCESS: 67 rules found/);
  });

  it('pass their unit tests (promtool test rules)', async function () {
    this.timeout(120_000);
    const result = await promtool('test', 'rules', testsFile);
    assert.equal(result.code, 0, result.output);
    assert.match(result.output, /SUCCESS/);
  });

  it('test every alert they define, firing and quiet', () => {
    const rules = parse(rulesText) as { groups: Array<{ rules: Array<{ alert?: string; record?: string }> }> };
    const tests = parse(testsText) as { tests: Array<{ alert_rule_test?: Array<{ alertname: string; exp_alerts: unknown[] }> }> };
    const alerts = rules.groups.flatMap((group) => group.rules.flatMap((rule) => (rule.alert ? [rule.alert] : [])));
    const cases = tests.tests.flatMap((test) => test.alert_rule_test ?? []);
    assert.ok(alerts.length >= 5);
    for (const alert of alerts) {
      assert.ok(
        cases.some((c) => c.alertname === alert && c.exp_alerts.length > 0),
        `${alert} has a case where it fires`,
      );
    }
    // Quiet cases: the same test's other providers, and explicit empty expectations.
    assert.ok(cases.filter((c) => c.exp_alerts.length === 0).length >= 2);
  });

  it('use only registry values for enum labels, in the rules and in their tests', () => {
    const enumLabels = new Map<string, string[]>();
    for (const [attribute, members] of registryAttributes()) if (members) enumLabels.set(prometheusLabel(attribute), members);
    let checked = 0;
    for (const text of [rulesText, testsText]) {
      for (const [, label, value] of text.matchAll(/\b([a-z_]+)="([^"]*)"/g)) {
        const members = enumLabels.get(label);
        // `label=""` selects the series without that label (a cancellation without a reason).
        if (!members || value === '') continue;
        checked += 1;
        assert.ok(members.includes(value), `${label}="${value}": not a value of the registry`);
      }
    }
    assert.ok(checked > 20);
  });

  it("read a raw collector series only in one rule per series and window that counts a new series' first value", () => {
    const rules = (parse(rulesText) as RuleFile).groups.flatMap((group) => group.rules);
    const firstLevel = new Map<string, string>();
    for (const rule of rules) {
      const raw = [...new Set([...rule.expr.matchAll(RAW_SERIES)].map((match) => match[1]))];
      if (raw.length === 0) continue;
      assert.equal(raw.length, 1, `${rule.record ?? rule.alert} reads ${raw.join(', ')}`);
      const window = /\[(\d+m)\]/.exec(rule.expr)?.[1] ?? '';
      assert.ok(window in WINDOW_SECONDS, `${rule.record ?? rule.alert}: window ${window}`);
      assert.equal(rule.record, firstValueRecord(raw[0], window), `${rule.record ?? rule.alert} reads ${raw[0]}: it should be the first-level rule`);
      assert.equal(normalized(rule.expr), firstValueRate(raw[0], window), rule.record);
      firstLevel.set(rule.record, raw[0]);
    }
    assert.equal(firstLevel.size, 17);
    // Every counter and histogram the collector writes is read this way.
    const read = new Set(firstLevel.values());
    for (const name of collectorSeries(loadCollectorConfig()).keys()) {
      if (/_(total|bucket)$/.test(name)) assert.ok(read.has(name), `${name} has no first-level rule`);
    }
    // And every first-level series is read.
    for (const record of firstLevel.keys()) {
      assert.ok(rules.some((rule) => rule.expr.includes(record)), `${record} is recorded but read by no rule`);
    }
    assert.ok(!/\b(?:rate|increase)\(/.test(rules.filter((rule) => !rule.record?.startsWith('series:')).map((rule) => rule.expr).join('\n')));
  });

  describe('unit tests that catch a broken rule', function () {
    // Each runs every unit test again (their longest series span 30 hours).
    this.timeout(120_000);

    it('an unmapped status that is the first of its series, left uncounted', async () => {
      const result = await unitTestsWith(withExpression(rulesText, 'series:payment_status_unmapped:rate15m', 'rate(payment_status_unmapped_total[15m])'));
      assert.notEqual(result.code, 0);
      assert.match(result.output, /a single unmapped status/);
    });

    it('a refused notification that is the first of its series, left uncounted', async () => {
      const result = await unitTestsWith(withExpression(rulesText, 'series:payment_callbacks_refused:rate15m', 'rate(payment_callbacks_refused_total[15m])'));
      assert.notEqual(result.code, 0);
      assert.match(result.output, /a single refused notification/);
    });

    it('failures that are each the first of their series, left out of the success rate', async () => {
      const result = await unitTestsWith(withExpression(rulesText, 'series:payment_flows:rate5m', 'rate(payment_flows_total[5m])'));
      assert.notEqual(result.code, 0);
      assert.match(result.output, /round\(payment:success_ratio_by_provider:rate5m \* 1000\)/);
    });

    it('canary failures that are each the first of their series, left out of the canary comparison', async () => {
      const result = await unitTestsWith(withExpression(rulesText, 'series:payment_flows:rate30m', 'rate(payment_flows_total[30m])'));
      assert.notEqual(result.code, 0);
      assert.match(result.output, /canary failures in new series/);
    });

    it('a series taken for new after a failed scrape (`unless x offset w`)', async () => {
      const instant = firstValueRate('payment_flows_total', '15m').replaceAll('count_over_time(payment_flows_total[15m] offset 15m)', 'payment_flows_total offset 15m');
      const result = await unitTestsWith(withExpression(rulesText, 'series:payment_flows:rate15m', instant));
      assert.notEqual(result.code, 0);
      assert.match(result.output, /max_over_time\(payment:flows_by_provider:rate15m\[25m\]\)/);
    });

    it('a success rate that goes missing when nothing succeeds', async () => {
      const broken = changed(
        rulesText,
        `sum by (deployment_environment_name, payment_provider) (payment:flows:rate5m{payment_outcome="succeeded"})
            or payment:flows_by_provider:rate5m * 0`,
        `sum by (deployment_environment_name, payment_provider) (payment:flows:rate5m{payment_outcome="succeeded"})`,
      );
      const result = await unitTestsWith(broken);
      assert.notEqual(result.code, 0);
      assert.match(result.output, /payment_provider="unionpay"/);
    });

    it('an alert threshold that never fires', async () => {
      const result = await unitTestsWith(
        changed(rulesText, 'payment:success_ratio_without_shopper_cancellations_by_provider:rate5m < 0.9', 'payment:success_ratio_without_shopper_cancellations_by_provider:rate5m < 0.1'),
      );
      assert.notEqual(result.code, 0);
      assert.match(result.output, /PaymentSuccessRateLow/);
    });

    it('an alert without its minimum of traffic', async () => {
      const broken = changed(
        rulesText,
        `payment:success_ratio_without_shopper_cancellations_by_provider:rate5m < 0.9
          and on (deployment_environment_name, payment_provider)
          payment:flows_without_shopper_cancellations_by_provider:rate5m * 300 >= 20`,
        'payment:success_ratio_without_shopper_cancellations_by_provider:rate5m < 0.9',
      );
      const result = await unitTestsWith(broken);
      assert.notEqual(result.code, 0);
      assert.match(result.output, /paypal/);
    });

    it('a provider page alert without its minimum of checkouts', async () => {
      const broken = changed(
        rulesText,
        `checkout:provider_page_load_failed_ratio:rate15m > 0.1
          and on (deployment_environment_name, payment_provider)
          checkout:checkouts_and_restores_by_provider:rate15m * 900 >= 20`,
        'checkout:provider_page_load_failed_ratio:rate15m > 0.1',
      );
      const result = await unitTestsWith(broken);
      assert.notEqual(result.code, 0);
      assert.match(result.output, /PaymentProviderPageNotLoading/);
      assert.match(result.output, /paypal/);
    });

    it('a provider page alert that fires for an isolated failure', async () => {
      const result = await unitTestsWith(changed(rulesText, 'checkout:provider_page_load_failed_ratio:rate15m > 0.1', 'checkout:provider_page_load_failed_ratio:rate15m > 0'));
      assert.notEqual(result.code, 0);
      assert.match(result.output, /PaymentProviderPageNotLoading/);
      assert.match(result.output, /alipay/);
    });

    it('a provider page share that leaves out the flows restored from the back-forward cache', async () => {
      const checkoutsOnly = `(
        checkout:provider_page_load_failures_by_provider:rate15m or checkout:checkouts_by_provider:rate15m * 0
      ) / checkout:checkouts_by_provider:rate15m`;
      const result = await unitTestsWith(withExpression(rulesText, 'checkout:provider_page_load_failed_ratio:rate15m', checkoutsOnly));
      assert.notEqual(result.code, 0);
      assert.match(result.output, /PaymentProviderPageNotLoading/);
      assert.match(result.output, /klarna/);
    });

    it('a success rate alert that counts the shoppers\' cancellations as failures', async () => {
      const result = await unitTestsWith(
        changed(rulesText, 'payment:success_ratio_without_shopper_cancellations_by_provider:rate5m < 0.9', 'payment:success_ratio_by_provider:rate5m < 0.9'),
      );
      assert.notEqual(result.code, 0);
      assert.match(result.output, /success rate without the shoppers' cancellations/);
      assert.match(result.output, /payment_provider="alipay"/);
    });

    it('a success rate alert whose minimum of traffic counts the shoppers\' cancellations', async () => {
      const result = await unitTestsWith(
        changed(rulesText, 'payment:flows_without_shopper_cancellations_by_provider:rate5m * 300 >= 20', 'payment:flows_by_provider:rate5m * 300 >= 20'),
      );
      assert.notEqual(result.code, 0);
      assert.match(result.output, /success rate without the shoppers' cancellations/);
      assert.match(result.output, /payment_provider="unionpay"/);
    });

    it('a success rate that takes every cancellation for the shopper\'s, a timeout\'s too', async () => {
      const everyCancellation = `sum by (deployment_environment_name, payment_provider) (
        payment:flows:rate5m
        unless payment:flows:rate5m{payment_failure_reason="user_cancelled"}
        unless payment:flows:rate5m{payment_outcome="cancelled"}
      )`;
      const result = await unitTestsWith(withExpression(rulesText, 'payment:flows_without_shopper_cancellations_by_provider:rate5m', everyCancellation));
      assert.notEqual(result.code, 0);
      assert.match(result.output, /round\(payment:success_ratio_without_shopper_cancellations_by_provider:rate5m \* 1000\)/);
    });

    it('a callbacks alert without its minimum of callbacks due', async () => {
      const broken = changed(
        rulesText,
        `and on (deployment_environment_name, payment_provider)
          payment:flows_created_by_provider:rate15m * 900 * payment:callbacks_per_created_flow_by_provider:rate15m_avg6h >= 20
`,
        '',
      );
      const result = await unitTestsWith(broken);
      assert.notEqual(result.code, 0);
      assert.match(result.output, /PaymentCallbacksDropped/);
      assert.match(result.output, /payment_provider="wechat"/);
    });

    it('a callbacks alert that judges slow callbacks against this hour\'s checkouts', async () => {
      const broken = changed(
        rulesText,
        `
          unless on (deployment_environment_name, payment_provider)
          payment:callback_latency_seconds:p95_rate15m > 900`,
        '',
      );
      const result = await unitTestsWith(broken);
      assert.notEqual(result.code, 0);
      assert.match(result.output, /PaymentCallbacksDropped/);
      assert.match(result.output, /payment_provider="banktransfer"/);
    });

    it('a callbacks alert that fires on a partial drop', async () => {
      const result = await unitTestsWith(changed(rulesText, '/ payment:callbacks_per_created_flow_by_provider:rate15m_avg6h < 0.25', '/ payment:callbacks_per_created_flow_by_provider:rate15m_avg6h < 0.5'));
      assert.notEqual(result.code, 0);
      assert.match(result.output, /PaymentCallbacksDropped/);
      assert.match(result.output, /payment_provider="paypal"/);
    });

    it('a share of returns without context that goes missing when every return found one', async () => {
      const broken = changed(
        rulesText,
        `sum by (deployment_environment_name) (checkout:returns_by_source:rate15m{payment_context_source="none"})
            or checkout:returns_via_return_url:rate15m * 0`,
        `sum by (deployment_environment_name) (checkout:returns_by_source:rate15m{payment_context_source="none"})`,
      );
      const result = await unitTestsWith(broken);
      assert.notEqual(result.code, 0);
      assert.match(result.output, /deployment_environment_name="sandbox"/);
    });

    it('a share of returns without context that counts the shoppers back through the back-forward cache', async () => {
      const result = await unitTestsWith(changed(rulesText, `{payment_context_source!~"back_forward_cache|reload"}`, '{payment_context_source!="reload"}'));
      assert.notEqual(result.code, 0);
      assert.match(result.output, /CheckoutReturnsUnlinked/);
    });

    it('a share of returns without context that counts reloads of the return page', async () => {
      const result = await unitTestsWith(changed(rulesText, `{payment_context_source!~"back_forward_cache|reload"}`, '{payment_context_source!="back_forward_cache"}'));
      assert.notEqual(result.code, 0);
      assert.match(result.output, /returns_via_return_url/);
    });

    it('a canary compared per provider without its margin', async () => {
      const result = await unitTestsWith(changed(rulesText, `{checkout_canary_cohort="stable"} - 0.1)`, `{checkout_canary_cohort="stable"} - 0.6)`));
      assert.notEqual(result.code, 0);
      assert.match(result.output, /PaymentCanaryProviderWorseThanStable/);
    });

    it('a canary compared per provider without the minimum of stable flows', async () => {
      const broken = changed(
        rulesText,
        `
          and on (deployment_environment_name, payment_provider)
          payment:flows_by_provider_cohort:rate30m{checkout_canary_cohort="stable"} * 1800 >= 30`,
        '',
      );
      const result = await unitTestsWith(broken);
      assert.notEqual(result.code, 0);
      assert.match(result.output, /PaymentCanaryProviderWorseThanStable/);
      assert.match(result.output, /payment_provider="wechat"/);
    });

    it('a canary compared per provider without the minimum of canary flows', async () => {
      const broken = changed(
        rulesText,
        `
          and on (deployment_environment_name, payment_provider)
          payment:flows_by_provider_cohort:rate30m{checkout_canary_cohort="canary"} * 1800 >= 30`,
        '',
      );
      const result = await unitTestsWith(broken);
      assert.notEqual(result.code, 0);
      assert.match(result.output, /PaymentCanaryProviderWorseThanStable/);
      assert.match(result.output, /deployment_environment_name="staging"/);
    });

    it('a canary compared without its margin', async () => {
      const result = await unitTestsWith(changed(rulesText, `{checkout_canary_cohort="stable"} - 0.05)`, `{checkout_canary_cohort="stable"} - 0.6)`));
      assert.notEqual(result.code, 0);
      assert.match(result.output, /PaymentCanaryWorseThanStable/);
    });
  });
});
