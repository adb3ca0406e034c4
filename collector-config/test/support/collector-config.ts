import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { prometheusLabel, prometheusName } from './registry.js';

/** The parts of the collector configuration the tests read. */
export interface CollectorConfig {
  receivers: Record<string, unknown>;
  processors: Record<string, Record<string, unknown>>;
  exporters: Record<string, unknown>;
  connectors: Record<string, Record<string, unknown>>;
  service: { pipelines: Record<string, { receivers?: string[]; processors?: string[]; exporters?: string[] }> };
}

export function loadCollectorConfig(): CollectorConfig {
  return parse(readFileSync(new URL('../../otelcol/collector.yaml', import.meta.url), 'utf8')) as CollectorConfig;
}

/** A derived metric as the collector's connectors define it. */
export interface DerivedMetric {
  name: string;
  kind: 'sum' | 'histogram';
  unit: string | undefined;
  conditions: string[];
  /** Span (or span event) attributes and resource attributes that become dimensions. */
  attributes: string[];
  /**
   * The attributes a span (or event) may lack and still be counted: `optional` ones (signaltometrics)
   * and those with a `default_value`. Both connectors skip a span that lacks any other.
   */
  mayBeAbsent: string[];
  resourceAttributes: string[];
  /** For a sum: whether it reaches the Prometheus exporter monotonic (a counter with `_total`), else a gauge. */
  monotonic: boolean;
}

/**
 * Whether the metrics pipeline marks every sum monotonic before the exporter: the
 * signaltometrics connector leaves its sums non-monotonic, and the Prometheus exporter writes
 * a non-monotonic sum as a gauge, without `_total`.
 */
function sumsMadeMonotonic(config: CollectorConfig): boolean {
  const pipeline = config.service.pipelines['metrics/payments'];
  return (pipeline?.processors ?? []).some((id) => {
    const groups = (config.processors[id]?.metric_statements ?? []) as Array<{ context: string; statements: string[] }>;
    return groups.some((group) => group.context === 'metric' && group.statements.includes('set(is_monotonic, true) where type == METRIC_DATA_TYPE_SUM'));
  });
}

interface ConnectorAttribute {
  key: string;
  optional?: boolean;
  default_value?: unknown;
}

interface SignalToMetricsEntry {
  name: string;
  unit?: string;
  conditions?: string[];
  attributes?: ConnectorAttribute[];
  include_resource_attributes?: { key: string }[];
  sum?: unknown;
  histogram?: unknown;
}

interface CountEntry {
  conditions?: string[];
  attributes?: ConnectorAttribute[];
}

/** The count connector has no `optional`: only a default keeps an event that lacks the attribute. */
function mayBeAbsent(attributes: ConnectorAttribute[] | undefined, optionalKnown: boolean): string[] {
  return (attributes ?? []).filter((a) => a.default_value !== undefined || (optionalKnown && a.optional === true)).map((a) => a.key);
}

/** Every metric the connectors derive, from `signaltometrics` (spans) and `count` (span events). */
export function derivedMetrics(config: CollectorConfig): DerivedMetric[] {
  const kept = keptResourceAttributes(config);
  const monotonic = sumsMadeMonotonic(config);
  const spans = (config.connectors.signaltometrics?.spans ?? []) as SignalToMetricsEntry[];
  const fromSpans = spans.map((entry) => ({
    name: entry.name,
    kind: entry.histogram ? ('histogram' as const) : ('sum' as const),
    unit: entry.unit,
    conditions: entry.conditions ?? [],
    attributes: (entry.attributes ?? []).map((attribute) => attribute.key),
    mayBeAbsent: mayBeAbsent(entry.attributes, true),
    resourceAttributes: (entry.include_resource_attributes ?? []).map((attribute) => attribute.key).filter((key) => kept.includes(key)),
    monotonic,
  }));
  const events = (config.connectors.count?.spanevents ?? {}) as Record<string, CountEntry>;
  const fromEvents = Object.entries(events).map(([name, entry]) => ({
    name,
    kind: 'sum' as const,
    unit: undefined,
    conditions: entry.conditions ?? [],
    attributes: (entry.attributes ?? []).map((attribute) => attribute.key),
    mayBeAbsent: mayBeAbsent(entry.attributes, false),
    // The count connector keeps the spans' resource, of which the metrics pipeline keeps these.
    resourceAttributes: kept,
    // The count connector marks its sums monotonic itself.
    monotonic: true,
  }));
  return [...fromSpans, ...fromEvents];
}

/** The resource attributes the metrics pipeline keeps (`keep_keys` of `transform/metric_resource`). */
export function keptResourceAttributes(config: CollectorConfig): string[] {
  const groups = config.processors['transform/metric_resource'].metric_statements as Array<{ context: string; statements: string[] }>;
  const statement = groups.flatMap((group) => group.statements).find((s) => s.startsWith('keep_keys(attributes, '));
  if (!statement) throw new Error('transform/metric_resource has no keep_keys(attributes, [...]) statement');
  return [...statement.matchAll(/"([^"]+)"/g)].map((match) => match[1]);
}

/**
 * A regular expression of the collector (Go's RE2) as a JavaScript one. The patterns here keep
 * to the syntax both engines read alike; a leading `(?i)` becomes the `i` flag.
 */
export function re2ToJs(pattern: string, flags = ''): RegExp {
  let source = pattern;
  let allFlags = flags;
  if (source.startsWith('(?i)')) {
    source = source.slice(4);
    allFlags += 'i';
  }
  for (const construct of ['(?i)', '(?=', '(?!', '(?<', '\\1', '\\k<']) {
    if (source.includes(construct)) throw new Error(`${construct} is read differently (or not at all) by RE2: ${pattern}`);
  }
  return new RegExp(source, allFlags);
}

/**
 * The series the collector's Prometheus exporter writes for the derived metrics, by name
 * (`payment_flows_total`, `payment_flow_duration_seconds_bucket`, ...), with the labels each
 * carries: the metric's attributes and kept resource attributes, plus `le` on buckets.
 */
export function collectorSeries(config: CollectorConfig): Map<string, Set<string>> {
  const series = new Map<string, Set<string>>();
  for (const metric of derivedMetrics(config)) {
    const labels = new Set([...metric.attributes, ...metric.resourceAttributes].map(prometheusLabel));
    // A sum that is not monotonic is written as a gauge: no `_total`.
    const instrument = metric.kind === 'histogram' ? 'histogram' : metric.monotonic ? 'counter' : 'gauge';
    const name = prometheusName({ name: metric.name, instrument, unit: metric.unit ?? '' });
    if (metric.kind === 'sum') {
      series.set(name, labels);
      continue;
    }
    series.set(`${name}_bucket`, new Set([...labels, 'le']));
    series.set(`${name}_count`, labels);
    series.set(`${name}_sum`, labels);
  }
  return series;
}
