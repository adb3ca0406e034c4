import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { checkExpressions } from './support/promtool.js';
import { traceqlProblems } from './support/traceql.js';
import { allPanels, loadDashboard, substituteVariables, targetsOf } from './support/dashboard.js';
import type { GridPos, Panel, QueryTarget, Variable } from './support/dashboard.js';
import { collectorSeries, loadCollectorConfig } from './support/collector-config.js';

interface RecordingRule {
  record?: string;
  alert?: string;
  expr: string;
}

const rulesText = readFileSync(new URL('../prometheus/payment-rules.yaml', import.meta.url), 'utf8');

const ENVIRONMENT_LABEL = 'deployment_environment_name';
const PROVIDER_LABEL = 'payment_provider';

// ---------------------------------------------------------------------------------------------
// Dashboard structure
// ---------------------------------------------------------------------------------------------

/** Problems with ids, titles and descriptions. */
function panelProblems(panels: readonly Panel[]): string[] {
  const problems: string[] = [];
  const seen = new Set<number>();
  for (const panel of allPanels(panels)) {
    const name = `panel ${panel.id} (${panel.title ?? 'untitled'})`;
    if (!Number.isInteger(panel.id) || panel.id <= 0) problems.push(`${name}: id must be a positive integer`);
    if (seen.has(panel.id)) problems.push(`${name}: duplicate id`);
    seen.add(panel.id);
    if (!panel.title?.trim()) problems.push(`${name}: no title`);
    if (!panel.description || panel.description.trim().length < 40) problems.push(`${name}: no real description`);
    if (panel.type !== 'row' && (panel.targets ?? []).length === 0) problems.push(`${name}: no targets`);
  }
  return problems;
}

/** Problems with the grid: positions inside 24 columns and no two panels covering the same cell. */
function layoutProblems(panels: readonly Panel[]): string[] {
  const problems: string[] = [];
  for (const panel of panels) {
    const g = panel.gridPos as Partial<GridPos> | undefined;
    const name = `panel ${panel.id} (${panel.title ?? 'untitled'})`;
    if (!g || ![g.x, g.y, g.w, g.h].every((n) => Number.isInteger(n))) {
      problems.push(`${name}: gridPos needs integer x, y, w and h`);
      continue;
    }
    const { x, y, w, h } = g as GridPos;
    if (x < 0 || y < 0 || w < 1 || h < 1 || x + w > 24) problems.push(`${name}: gridPos ${JSON.stringify(g)} is outside 24 columns`);
    if (panel.type === 'row' && (x !== 0 || w !== 24 || h !== 1)) problems.push(`${name}: a row spans the full width with height 1`);
  }
  for (let i = 0; i < panels.length; i++) {
    for (let j = i + 1; j < panels.length; j++) {
      const a = panels[i].gridPos;
      const b = panels[j].gridPos;
      if (a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h) {
        problems.push(`panels ${panels[i].id} and ${panels[j].id} overlap`);
      }
    }
  }
  for (const row of panels.filter((panel) => panel.type === 'row')) {
    problems.push(...layoutProblems(row.panels ?? []));
  }
  return problems;
}

/** Which row each panel sits under, in order from the top. */
function rowsInOrder(panels: readonly Panel[]): { row: string; panels: string[] }[] {
  const sorted = [...panels].sort((a, b) => a.gridPos.y - b.gridPos.y || a.gridPos.x - b.gridPos.x);
  const rows: { row: string; panels: string[] }[] = [];
  for (const panel of sorted) {
    if (panel.type === 'row') rows.push({ row: panel.title ?? '', panels: (panel.panels ?? []).map((p) => p.title ?? '') });
    else if (rows.length === 0) rows.push({ row: '', panels: [panel.title ?? ''] });
    else rows[rows.length - 1].panels.push(panel.title ?? '');
  }
  return rows;
}

// ---------------------------------------------------------------------------------------------
// PromQL names
// ---------------------------------------------------------------------------------------------

/** The series Prometheus can hold, by metric name, with the labels each can carry. */
type KnownSeries = Map<string, Set<string>>;

/** Collector metrics (as the collector's Prometheus exporter writes them) and recorded series. */
function knownSeries(): KnownSeries {
  const known: KnownSeries = collectorSeries(loadCollectorConfig());
  for (const rule of recordingRules()) {
    known.set(rule.record, recordedLabels(rule.expr, known));
  }
  return known;
}

function recordingRules(): { record: string; expr: string }[] {
  const rules = parse(rulesText) as { groups: { rules: RecordingRule[] }[] };
  return rules.groups.flatMap((group) => group.rules).filter((rule): rule is RecordingRule & { record: string } => !!rule.record);
}

/**
 * The labels a recorded series keeps: the first `by (...)` of its expression (the outer
 * aggregation; `le` is consumed by histogram_quantile), else every label of the series it reads.
 */
function recordedLabels(expr: string, known: KnownSeries): Set<string> {
  const by = /\bby\s*\(([^)]*)\)/.exec(maskStrings(expr));
  if (by) return new Set(splitLabels(by[1]).filter((label) => label !== 'le'));
  return new Set(metricNames(expr).flatMap((name) => [...(known.get(name) ?? [])]));
}

function splitLabels(list: string): string[] {
  return list
    .split(',')
    .map((label) => label.trim())
    .filter(Boolean);
}

/** Blanks the contents of string literals, keeping every other character at its offset. */
function maskStrings(expr: string): string {
  return expr.replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, (s) => `${s[0]}${'_'.repeat(s.length - 2)}${s[0]}`);
}

const IDENTIFIER = /(?<![\w:.])[A-Za-z_:][\w:]*/g;

/**
 * Metric names an expression uses: identifiers outside strings that are followed by `{` or `[`
 * (a selector), or that contain `:` (only metric names may), or that end in `_total`,
 * `_bucket`, `_count` or `_sum` and are not a function call.
 */
function metricNames(expr: string): string[] {
  const masked = maskStrings(expr);
  const names: string[] = [];
  for (const match of masked.matchAll(IDENTIFIER)) {
    const name = match[0];
    const rest = masked.slice(match.index + name.length);
    const selector = /^\s*[{[]/.test(rest);
    const call = /^\s*\(/.test(rest);
    if (selector || (!call && (name.includes(':') || /_(total|bucket|count|sum)$/.test(name)))) names.push(name);
  }
  return names;
}

interface Selector {
  metric: string;
  matchers: { label: string; op: string; value: string }[];
  braces: boolean;
}

/** Each use of a metric with its label matchers (values read from the unmasked text). */
function selectors(expr: string): Selector[] {
  const masked = maskStrings(expr);
  const names = new Set(metricNames(expr));
  const result: Selector[] = [];
  for (const match of masked.matchAll(IDENTIFIER)) {
    if (!names.has(match[0])) continue;
    const after = match.index + match[0].length;
    const braces = /^\s*\{[^}]*\}/.exec(masked.slice(after));
    const matchers: Selector['matchers'] = [];
    if (braces) {
      const start = after;
      for (const m of braces[0].matchAll(/([A-Za-z_]\w*)\s*(=~|!~|!=|=)\s*("_*"|'_*'|`_*`)/g)) {
        const valueStart = start + m.index + m[0].length - m[3].length;
        matchers.push({ label: m[1], op: m[2], value: expr.slice(valueStart + 1, valueStart + m[3].length - 1) });
      }
    }
    result.push({ metric: match[0], matchers, braces: !!braces });
  }
  return result;
}

/** Unknown metric names, and labels that the series they are used with cannot carry. */
function promqlNameProblems(expr: string, known: KnownSeries): string[] {
  const problems: string[] = [];
  const used = new Set<string>();
  for (const selector of selectors(expr)) {
    const labels = known.get(selector.metric);
    if (!labels) {
      problems.push(`\`${selector.metric}\` is neither recorded by payment-rules.yaml nor a collector metric`);
      continue;
    }
    for (const label of labels) used.add(label);
    for (const { label } of selector.matchers) {
      if (!labels.has(label)) problems.push(`\`${selector.metric}\` has no label \`${label}\``);
    }
  }
  // Labels of bare `{...}` selectors and of by/without/on/ignoring/group_* clauses.
  const masked = maskStrings(expr);
  const everyLabel = new Set([...known.values()].flatMap((labels) => [...labels]));
  for (const braces of masked.matchAll(/(?<![\w:\s])\s*\{([^}]*)\}/g)) {
    for (const m of braces[1].matchAll(/([A-Za-z_]\w*)\s*(?:=~|!~|!=|=)/g)) {
      if (!everyLabel.has(m[1])) problems.push(`no series carries label \`${m[1]}\``);
    }
  }
  for (const clause of masked.matchAll(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\(([^)]*)\)/g)) {
    for (const label of splitLabels(clause[1])) {
      if (!used.has(label)) problems.push(`\`${label}\` in \`${clause[0]}\` is not a label of the series this expression reads`);
    }
  }
  return problems;
}

/**
 * Selectors that do not filter by the chosen environment (and provider, where they have one).
 * `$provider|` keeps the series without a provider too, whichever providers are chosen.
 */
function filterProblems(rawExpr: string, known: KnownSeries): string[] {
  const problems: string[] = [];
  for (const selector of selectors(rawExpr)) {
    const has = (label: string, op: string, ...values: string[]) =>
      selector.matchers.some((m) => m.label === label && m.op === op && values.includes(m.value));
    if (!has(ENVIRONMENT_LABEL, '=', '$environment')) {
      problems.push(`\`${selector.metric}\` does not filter ${ENVIRONMENT_LABEL}="$environment"`);
    }
    if (known.get(selector.metric)?.has(PROVIDER_LABEL) && !has(PROVIDER_LABEL, '=~', '$provider', '$provider|')) {
      problems.push(`\`${selector.metric}\` does not filter ${PROVIDER_LABEL}=~"$provider"`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

const dashboard = loadDashboard();
const targets = targetsOf(dashboard.panels);
const promTargets = targets.filter((t) => t.kind === 'prometheus');
const tempoTargets = targets.filter((t) => t.kind === 'tempo');
const known = knownSeries();

function label(t: QueryTarget): string {
  return `${t.panel.title ?? t.panel.id} / ${t.target.refId}`;
}

describe('Grafana dashboard payment-flows.json', () => {
  describe('structure', () => {
    it('is an importable dashboard with the agreed uid, title and schema version', () => {
      assert.equal(dashboard.uid, 'otel-checkout-payment-flows');
      assert.equal(dashboard.title, 'Payment flows');
      assert.equal(dashboard.schemaVersion, 39);
      assert.ok(Array.isArray(dashboard.panels) && dashboard.panels.length > 0);
    });

    it('has the datasource, query and textbox variables', () => {
      const variables = new Map(dashboard.templating.list.map((v) => [v.name, v]));
      assert.deepEqual(
        [...variables.keys()].sort(),
        ['environment', 'prometheus', 'provider', 'tempo', 'trade_no'],
      );
      assert.equal(variables.get('prometheus')!.type, 'datasource');
      assert.equal(variables.get('prometheus')!.query, 'prometheus');
      assert.equal(variables.get('tempo')!.type, 'datasource');
      assert.equal(variables.get('tempo')!.query, 'tempo');
      const queryOf = (v: Variable) => (typeof v.query === 'string' ? v.query : v.query?.query);
      const environment = variables.get('environment')!;
      assert.equal(environment.type, 'query');
      assert.deepEqual(environment.datasource, { type: 'prometheus', uid: '${prometheus}' });
      assert.equal(queryOf(environment), 'label_values(payment_flows_total, deployment_environment_name)');
      const provider = variables.get('provider')!;
      assert.equal(provider.type, 'query');
      assert.deepEqual(provider.datasource, { type: 'prometheus', uid: '${prometheus}' });
      assert.equal(queryOf(provider), 'label_values(payment_flows_total{deployment_environment_name="$environment"}, payment_provider)');
      assert.equal(provider.multi, true);
      assert.equal(provider.includeAll, true);
      assert.equal(provider.allValue, '.*');
      assert.equal(variables.get('trade_no')!.type, 'textbox');
      assert.equal(variables.get('trade_no')!.query, '');
    });

    it('gives every panel a unique id, a title and a description', () => {
      assert.deepEqual(panelProblems(dashboard.panels), []);
    });

    it('places every panel inside 24 columns with no two panels overlapping', () => {
      assert.deepEqual(layoutProblems(dashboard.panels), []);
    });

    it('starts with "Find a payment" and its trade-number panel, then Success rate, Callbacks, Browser', () => {
      const rows = rowsInOrder(dashboard.panels);
      assert.deepEqual(
        rows.map((r) => r.row),
        ['Find a payment', 'Success rate', 'Callbacks', 'Browser'],
      );
      const tradePanels = tempoTargets.filter((t) => t.target.query?.includes('$trade_no')).map((t) => t.panel.title);
      assert.equal(tradePanels.length, 1);
      assert.deepEqual(rows[0].panels, tradePanels);
      for (const row of rows) assert.ok(row.panels.length > 0, `row ${row.row} is empty`);
    });

    it('sends every query to the ${prometheus} or ${tempo} datasource variable', () => {
      assert.deepEqual(
        targets.filter((t) => t.kind === 'unknown').map(label),
        [],
        'targets with neither a prometheus nor a tempo datasource',
      );
      for (const t of promTargets) {
        assert.equal(t.target.datasource?.uid ?? t.panel.datasource?.uid, '${prometheus}', label(t));
        assert.ok(t.target.expr?.trim(), `${label(t)} has no expr`);
      }
      for (const t of tempoTargets) {
        assert.equal(t.target.datasource?.uid ?? t.panel.datasource?.uid, '${tempo}', label(t));
        assert.equal(t.target.queryType, 'traceql', label(t));
        assert.ok(t.target.query?.trim(), `${label(t)} has no query`);
      }
      assert.ok(promTargets.length >= 10, `only ${promTargets.length} Prometheus queries`);
      assert.ok(tempoTargets.length >= 2, `only ${tempoTargets.length} Tempo queries`);
    });
  });

  describe('Prometheus queries', () => {
    it('use only known template variables', () => {
      for (const t of [...promTargets, ...tempoTargets]) {
        const text = substituteVariables(t.target.expr ?? t.target.query ?? '');
        assert.ok(!/\$|\[\[/.test(text), `${label(t)} keeps an unknown variable: ${text}`);
      }
    });

    it("parse with Prometheus's own parser after substituting the variables", async () => {
      const result = await checkExpressions(promTargets.map((t) => substituteVariables(t.target.expr!)));
      assert.equal(result.code, 0, result.output);
    });

    it('read only recorded series and collector metrics, with labels those series carry', () => {
      const problems = promTargets.flatMap((t) => promqlNameProblems(substituteVariables(t.target.expr!), known).map((p) => `${label(t)}: ${p}`));
      assert.deepEqual(problems, []);
      for (const t of promTargets) assert.ok(metricNames(t.target.expr!).length > 0, `${label(t)} reads no metric`);
    });

    it('filter by the chosen environment and, where the series has a provider, the chosen providers', () => {
      const problems = promTargets.flatMap((t) => filterProblems(t.target.expr!, known).map((p) => `${label(t)}: ${p}`));
      assert.deepEqual(problems, []);
    });

    it('use the recorded series wherever payment-rules.yaml records one', () => {
      const used = new Set(promTargets.flatMap((t) => metricNames(t.target.expr!)));
      for (const series of [
        'payment:success_ratio_by_provider:rate5m',
        'payment:flows:rate5m',
        'payment:success_ratio_by_release:rate30m',
        'payment:success_ratio_by_cohort:rate30m',
        'payment:stalled_ratio_by_provider:rate15m',
        'payment:callback_latency_seconds:p95_rate15m',
        'payment:flow_duration_seconds:p95_rate15m',
        'checkout:sdk_errors_per_checkout:rate15m',
        'checkout:returns_by_source:rate15m',
        'checkout:returns_unlinked_ratio:rate15m',
        'checkout:provider_page_load_failed_ratio:rate15m',
        'payment:success_ratio_without_shopper_cancellations_by_provider:rate5m',
        'payment:success_ratio_by_provider_cohort:rate30m',
        'payment:callbacks_per_created_flow_by_provider:rate15m',
        'payment:flows_created_by_provider:rate15m',
        'payment:callbacks_by_provider:rate15m',
      ]) {
        assert.ok(used.has(series), `no panel shows ${series}`);
      }
      // Never a raw collector series: its rate() would miss a new series' first value, which the
      // rules' `series:…` rates count.
      const raw = promTargets.filter((t) => metricNames(t.target.expr!).some((name) => !name.includes(':')));
      assert.deepEqual(raw.map(label), [], 'queries that read a raw collector series');
      assert.ok(!promTargets.some((t) => /\b(?:rate|increase)\(/.test(t.target.expr!)));
    });

    it('keep the refused notifications without a provider in view whichever providers are chosen', () => {
      const refused = promTargets.filter((t) => metricNames(t.target.expr!).includes('payment:callbacks_refused:rate15m'));
      assert.ok(refused.length > 0);
      for (const t of refused) {
        assert.match(t.target.expr!, /payment_provider=~"\$provider\|"/, label(t));
        assert.match(t.panel.description ?? '', /without a provider/, label(t));
      }
    });
  });

  describe('Tempo queries', () => {
    it('parse as TraceQL and name only registry attributes and span names', () => {
      const problems = tempoTargets.flatMap((t) => traceqlProblems(substituteVariables(t.target.query!)).map((p) => `${label(t)}: ${p}`));
      assert.deepEqual(problems, []);
    });

    it('search a trade number over the last two days, and say so before any other cause of no trace', () => {
      const [panel] = tempoTargets.filter((t) => t.target.query?.includes('$trade_no')).map((t) => t.panel);
      // A callback can come two days after the click; a support ticket is hours or days old.
      assert.match(panel.timeFrom ?? '', /^\d+[dh]$/, 'a time range of its own');
      const hours = Number.parseInt(panel.timeFrom!, 10) * (panel.timeFrom!.endsWith('d') ? 24 : 1);
      assert.ok(hours >= 48, `${panel.timeFrom} is shorter than two days`);
      const description = panel.description ?? '';
      assert.match(description, /last two days/);
      const noTrace = description.slice(description.indexOf('finds no trace'));
      assert.ok(noTrace.includes('range') && noTrace.indexOf('range') < noTrace.indexOf('sampled out'), 'no trace found: the time range is named before sampling');
    });

    it('find one flow by trade number and list stalled flows of the chosen environment and providers', () => {
      const queries = tempoTargets.map((t) => t.target.query);
      assert.ok(queries.includes('{ span.payment.trade_no = "$trade_no" }'));
      assert.ok(queries.includes('{ name = "payment.callback.stalled" && span.payment.provider =~ "$provider" && resource.deployment.environment.name = "$environment" }'));
    });

    it('keep to the chosen environment, except the search by trade number', () => {
      const unfiltered = tempoTargets
        .filter((t) => !t.target.query!.includes('$trade_no'))
        .filter((t) => !t.target.query!.includes('resource.deployment.environment.name = "$environment"'))
        .map(label);
      assert.deepEqual(unfiltered, []);
    });

    it('quoted in panel descriptions parse and name only registry attributes and span names', () => {
      const quoted = allPanels(dashboard.panels).flatMap((panel) =>
        [...(panel.description ?? '').matchAll(/`(\{[^`]*)`/g)].map((match) => ({ panel: panel.title ?? String(panel.id), query: match[1] })),
      );
      assert.ok(quoted.length >= 4);
      assert.deepEqual(
        quoted.flatMap(({ panel, query }) => traceqlProblems(query).map((p) => `${panel}: ${query}: ${p}`)),
        [],
      );
    });
  });

  describe('the checks reject broken dashboards', () => {
    it('rejects a misspelled recorded series or collector metric in every dashboard query', () => {
      for (const t of promTargets) {
        const expr = substituteVariables(t.target.expr!);
        for (const name of new Set(metricNames(expr))) {
          const misspelled = name.includes(':') ? name.replace(/:(\w+)$/, ':$1x') : name.replace(/_(total|bucket|count|sum)$/, '_x$1');
          const mutated = expr.split(name).join(misspelled);
          assert.notDeepEqual(promqlNameProblems(mutated, known), [], `${label(t)} with ${misspelled} passed`);
        }
      }
      assert.deepEqual(promqlNameProblems('payment:success_ratio_by_provder:rate5m{deployment_environment_name="production"}', known), [
        '`payment:success_ratio_by_provder:rate5m` is neither recorded by payment-rules.yaml nor a collector metric',
      ]);
      assert.notDeepEqual(promqlNameProblems('sum(rate(payment_flows_totl{deployment_environment_name="production"}[5m]))', known), []);
      assert.notDeepEqual(promqlNameProblems('payment:flows:rate5m * 0 + payment:flow:rate5m', known), []);
    });

    it('rejects labels the series cannot carry', () => {
      assert.notDeepEqual(promqlNameProblems('payment:success_ratio_by_provider:rate5m{payment_provdier=~".*"}', known), []);
      // A real label, but not one this recorded series keeps.
      assert.notDeepEqual(promqlNameProblems('payment:success_ratio_by_provider:rate5m{payment_outcome="failed"}', known), []);
      assert.notDeepEqual(promqlNameProblems('sum by (payment_stage) (payment:flows:rate5m)', known), []);
      assert.deepEqual(promqlNameProblems('sum by (payment_failure_reason) (payment:flows:rate5m{payment_outcome="failed"})', known), []);
    });

    it('rejects a query without the environment or provider filter', () => {
      assert.notDeepEqual(filterProblems('payment:success_ratio_by_provider:rate5m{payment_provider=~"$provider"}', known), []);
      assert.notDeepEqual(filterProblems('payment:success_ratio_by_provider:rate5m{deployment_environment_name="$environment"}', known), []);
      assert.deepEqual(filterProblems('checkout:sdk_errors_per_checkout:rate15m{deployment_environment_name="$environment"}', known), []);
    });

    it('rejects broken PromQL in every dashboard query', async () => {
      const broken = promTargets.flatMap((t) => {
        const expr = substituteVariables(t.target.expr!);
        const last = Math.max(expr.lastIndexOf(')'), expr.lastIndexOf('}'));
        return [
          { name: `${label(t)} without its last bracket`, expr: expr.slice(0, last) + expr.slice(last + 1) },
          { name: `${label(t)} with a dangling operator`, expr: `${expr} /` },
        ];
      });
      broken.push({ name: 'rate() of an instant vector', expr: 'rate(payment:flows:rate5m{deployment_environment_name="production"})' });
      const results = await Promise.all(broken.map(({ expr }) => checkExpressions([expr])));
      broken.forEach(({ name, expr }, i) => assert.notEqual(results[i].code, 0, `promtool accepted ${name}: ${expr}`));
    });

    it('rejects broken TraceQL, unknown attributes and unknown span names', () => {
      assert.notDeepEqual(traceqlProblems('{ span.payment.trade_no = }'), []);
      assert.notDeepEqual(traceqlProblems('{ span.payment.trade_no = "T1"'), []);
      assert.deepEqual(traceqlProblems('{ span.payment.trade_number = "T1" }'), ['`payment.trade_number` is not a registry attribute']);
      assert.deepEqual(traceqlProblems('{ .payment.provdier = "x" }'), ['`payment.provdier` is not a registry attribute']);
      assert.deepEqual(traceqlProblems('{ name = "payment.callback.stall" }'), ['`payment.callback.stall` is not a registry span name']);
      assert.deepEqual(traceqlProblems('{ name = "payment.sdk confirmPayment" && resource.service.name = "shop" }'), []);
    });

    it('rejects overlapping panels, panels wider than the grid and panels without a description', () => {
      const panel = (id: number, gridPos: GridPos, description = 'A panel that shows something and says when to worry.'): Panel => ({
        id,
        type: 'timeseries',
        title: `p${id}`,
        description,
        gridPos,
        targets: [{ refId: 'A' }],
      });
      assert.deepEqual(layoutProblems([panel(1, { x: 0, y: 0, w: 12, h: 8 }), panel(2, { x: 12, y: 0, w: 12, h: 8 })]), []);
      assert.deepEqual(layoutProblems([panel(1, { x: 0, y: 0, w: 12, h: 8 }), panel(2, { x: 11, y: 7, w: 12, h: 8 })]), [
        'panels 1 and 2 overlap',
      ]);
      assert.notDeepEqual(layoutProblems([panel(1, { x: 16, y: 0, w: 12, h: 8 })]), []);
      assert.notDeepEqual(panelProblems([panel(1, { x: 0, y: 0, w: 12, h: 8 }), panel(1, { x: 12, y: 0, w: 12, h: 8 })]), []);
      assert.notDeepEqual(panelProblems([panel(1, { x: 0, y: 0, w: 12, h: 8 }, '')]), []);
    });
  });
});
