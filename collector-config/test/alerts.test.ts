import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { loadDashboard } from './support/dashboard.js';
import type { Dashboard } from './support/dashboard.js';

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const rulesText = readFileSync(new URL('../prometheus/payment-rules.yaml', import.meta.url), 'utf8');
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const alerts = (parse(rulesText) as { groups: Array<{ rules: Array<Partial<AlertRule>> }> }).groups
  .flatMap((group) => group.rules)
  .filter((rule): rule is AlertRule => typeof rule.alert === 'string');
const dashboard = loadDashboard();

/** `row › panel title` of every panel under a row, as the alerts' `dashboard` annotation names them. */
function panelPaths(board: Dashboard): Set<string> {
  const paths = new Set<string>();
  let row = '';
  const sorted = [...board.panels].sort((a, b) => a.gridPos.y - b.gridPos.y || a.gridPos.x - b.gridPos.x);
  for (const panel of sorted) {
    if (panel.type === 'row') {
      row = panel.title ?? '';
      for (const nested of panel.panels ?? []) paths.add(`${board.title} › ${row} › ${nested.title ?? ''}`);
    } else {
      paths.add(`${board.title} › ${row} › ${panel.title ?? ''}`);
    }
  }
  return paths;
}

const TRACEQL = /`(\{[^`]*)`/g;
const CONDITIONAL = /\{\{ (if|with) \$labels\.(\w+) \}\}([\s\S]*?)(?:\{\{ else \}\}([\s\S]*?))?\{\{ end \}\}/g;

/**
 * An annotation as Prometheus renders it for an alert that has `label`, or lacks it: its
 * `{{ if $labels.<label> }}…{{ else }}…{{ end }}` and `{{ with $labels.<label> }}…{{ else }}…{{ end }}`
 * (not nested) resolved, every other template left as it is.
 */
function rendered(text: string, label: string, present: boolean): string {
  return text.replace(CONDITIONAL, (match, keyword: string, name: string, then: string, otherwise: string | undefined) => {
    if (name !== label) return match;
    if (!present) return otherwise ?? '';
    return keyword === 'with' ? then.replaceAll('{{ . }}', `{{ $labels.${name} }}`) : then;
  });
}

const ENVIRONMENT_FILTER = 'resource.deployment.environment.name = "{{ $labels.deployment_environment_name }}"';
const PROVIDER_FILTER = 'span.payment.provider = "{{ $labels.payment_provider }}"';

/**
 * What an on-call engineer cannot act on in an alert: a missing summary or description, no
 * dashboard panel to open (or one the dashboard does not have), a panel named in the text that
 * does not exist, and TraceQL that finds the flows of every environment (or every provider)
 * when the alert is about one.
 */
function annotationProblems(alert: AlertRule, paths: Set<string>, titles: Set<string>): string[] {
  const problems: string[] = [];
  const { summary, description, dashboard: panel } = alert.annotations ?? {};
  if (!summary?.trim()) problems.push(`${alert.alert}: no summary`);
  if (!description?.trim()) problems.push(`${alert.alert}: no description`);
  if (!panel) problems.push(`${alert.alert}: no dashboard annotation naming the panel to open`);
  else if (!paths.has(panel)) problems.push(`${alert.alert}: dashboard "${panel}" is not a panel of the dashboard (dashboard › row › panel)`);
  const text = `${summary ?? ''} ${description ?? ''}`;
  // A provider-less series (spans that carried no provider) fires with no `payment_provider`:
  // what the alert says then is read apart, and must not name an empty provider.
  const withProvider = rendered(text, 'payment_provider', true);
  const withoutProvider = rendered(text, 'payment_provider', false);
  for (const [, title] of `${withProvider} ${withoutProvider}`.matchAll(/["`]([^"`{}]+)["`] panel/g)) {
    if (!titles.has(title)) problems.push(`${alert.alert}: names a "${title}" panel the dashboard does not have`);
  }
  const queries = [...withProvider.matchAll(TRACEQL)].map((match) => match[1]);
  if (queries.length === 0) problems.push(`${alert.alert}: names no TraceQL query`);
  // The provider is optional on refused notifications (their body was not read): their query goes by service.
  const perProvider = /\$labels\.payment_provider\b/.test(text);
  for (const query of queries) {
    if (!query.includes(ENVIRONMENT_FILTER)) problems.push(`${alert.alert}: ${query} does not keep to the alert's environment`);
    if (perProvider && !query.includes(PROVIDER_FILTER)) problems.push(`${alert.alert}: ${query} does not keep to the alert's provider`);
  }
  if (perProvider) {
    if (/\$labels\.payment_provider\b/.test(withoutProvider)) {
      problems.push(
        `${alert.alert}: without a provider it names an empty one (a query for \`span.payment.provider = ""\` finds nothing): put it under {{ if $labels.payment_provider }} or {{ with $labels.payment_provider }}, with an {{ else }}`,
      );
    }
    const queriesWithout = [...withoutProvider.matchAll(TRACEQL)].map((match) => match[1]);
    if (queriesWithout.length === 0) problems.push(`${alert.alert}: names no TraceQL query for flows without a provider`);
    for (const query of queriesWithout) {
      if (!query.includes(ENVIRONMENT_FILTER)) problems.push(`${alert.alert}: ${query} (without a provider) does not keep to the alert's environment`);
    }
  }
  return problems;
}

/** The README's alert table: alert, for, severity. */
function readmeAlertTable(): Map<string, { for: string; severity: string }> {
  const rows = new Map<string, { for: string; severity: string }>();
  for (const [, name, forDuration, severity] of readme.matchAll(/^\| `([A-Za-z]+)` \|.*\| (\w+) \| (\w+) \|$/gm)) {
    rows.set(name, { for: forDuration, severity });
  }
  return rows;
}

describe('Alerts, as on-call reads them', () => {
  const paths = panelPaths(dashboard);
  const titles = new Set([...paths].map((path) => path.split(' › ').pop()!));

  it('each have a summary, a description, a TraceQL query for their environment and a dashboard panel that exists', () => {
    assert.ok(alerts.length >= 10);
    assert.deepEqual(
      alerts.flatMap((alert) => annotationProblems(alert, paths, titles)),
      [],
    );
  });

  it('page or warn, and are in the README with the same `for` and severity', () => {
    const table = readmeAlertTable();
    assert.deepEqual([...table.keys()].sort(), alerts.map((alert) => alert.alert).sort(), 'the README lists exactly the alerts of payment-rules.yaml');
    for (const alert of alerts) {
      assert.ok(['page', 'warning'].includes(alert.labels?.severity ?? ''), `${alert.alert}: severity page or warning`);
      assert.deepEqual(table.get(alert.alert), { for: alert.for, severity: alert.labels!.severity }, alert.alert);
    }
  });

  describe('the check rejects', () => {
    const base = alerts.find((alert) => alert.alert === 'PaymentCallbacksStalling')!;
    const withAnnotations = (annotations: Record<string, string>): AlertRule => ({ ...base, annotations: { ...base.annotations, ...annotations } });
    const cases: Array<[string, AlertRule, RegExp]> = [
      ['no dashboard annotation', { ...base, annotations: { summary: 's', description: base.annotations!.description } }, /no dashboard annotation/],
      ['a panel the dashboard does not have', withAnnotations({ dashboard: 'Payment flows › Callbacks › Stalled flows' }), /is not a panel of the dashboard/],
      ['a panel under another row', withAnnotations({ dashboard: 'Payment flows › Browser › Stalled share by provider' }), /is not a panel of the dashboard/],
      [
        'a recorded series named as a panel',
        withAnnotations({ description: `${base.annotations!.description} Compare on the \`payment:stalled_ratio_by_provider:rate15m\` panel.` }),
        /names a "payment:stalled_ratio_by_provider:rate15m" panel/,
      ],
      [
        'a query over every environment',
        withAnnotations({ description: 'Stalled: `{ name = "payment.callback.stalled" && span.payment.provider = "{{ $labels.payment_provider }}" }`.' }),
        /does not keep to the alert's environment/,
      ],
      ['a query over every provider', withAnnotations({ description: `In {{ $labels.payment_provider }}: \`{ name = "payment.callback.stalled" && ${ENVIRONMENT_FILTER} }\`.` }), /does not keep to the alert's provider/],
      ['no query at all', withAnnotations({ description: 'Look at the dashboard.' }), /names no TraceQL query/],
      [
        'a query that names an empty provider when the alert has none',
        withAnnotations({ description: `Stalled: \`{ name = "payment.callback.stalled" && ${PROVIDER_FILTER} && ${ENVIRONMENT_FILTER} }\`.` }),
        /without a provider it names an empty one/,
      ],
      [
        'a summary that names an empty provider when the alert has none',
        withAnnotations({ summary: 'Flows of {{ $labels.payment_provider }} stall' }),
        /without a provider it names an empty one/,
      ],
      [
        'a query for the flows without a provider over every environment',
        withAnnotations({
          description: `Stalled: {{ if $labels.payment_provider }}\`{ name = "payment.callback.stalled" && ${PROVIDER_FILTER} && ${ENVIRONMENT_FILTER} }\`{{ else }}\`{ name = "payment.callback.stalled" } | by(span.payment.provider)\`{{ end }}.`,
        }),
        /\(without a provider\) does not keep to the alert's environment/,
      ],
    ];
    for (const [what, alert, problem] of cases) {
      it(what, () => {
        const problems = annotationProblems(alert, paths, titles);
        assert.ok(
          problems.some((p) => problem.test(p)),
          JSON.stringify(problems),
        );
      });
    }
  });
});
