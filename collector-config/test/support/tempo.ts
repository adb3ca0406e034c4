import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parser } from '@grafana/lezer-traceql';
import { parse } from 'yaml';
import { allPanels, loadDashboard, substituteVariables, targetsOf } from './dashboard.js';

// ---------------------------------------------------------------------------------------------
// The keys Tempo reads
// ---------------------------------------------------------------------------------------------

/** What a key's value must be for Tempo to read it. */
export type ValueKind =
  | 'string'
  | 'bool'
  | 'int'
  /** A Go duration string (`168h`, `1h30m`): Tempo reads it with Go's time.ParseDuration. */
  | 'duration'
  /** `host:port` to listen on. */
  | 'address'
  /** A list of mappings, whose keys are listed under `<path>[]`. */
  | 'list'
  | { oneOf: readonly string[] };

/**
 * Key paths of a Tempo configuration file that Grafana Tempo 2.5.0, 2.6.1, 2.7.2 and 2.8.4 all
 * read, with the kind of value each takes: the keys tempo/tempo.yaml uses and the neighbours an
 * operator is likely to tune. Tempo loads its file with a strict YAML decoder (cmd/tempo/main.go,
 * `yaml.UnmarshalStrict`): a key it does not know stops it at start. A key Tempo reads but this
 * list lacks fails the tests too; check it in Tempo's sources before adding it.
 *
 * Taken from the `yaml:"..."` (and, for the OTLP receiver, `mapstructure:"..."`) tags of these
 * files in grafana/tempo at each of those tags:
 * - cmd/tempo/app/config.go: the top-level sections, `target`, `stream_over_http_enabled`;
 *   cmd/tempo/app/modules.go: `all` is the single-binary target
 * - vendor/github.com/grafana/dskit/server/server.go: `server.*`; the log levels and formats from
 *   vendor/github.com/grafana/dskit/log/level.go and log/gokit.go
 * - modules/distributor/config.go (`receivers`); the OTLP receiver's own configuration in
 *   vendor/go.opentelemetry.io/collector/: receiver/otlpreceiver/config.go,
 *   config/confignet/confignet.go and config/confighttp/confighttp.go
 * - modules/ingester/config.go: `ingester.*`
 * - modules/compactor/config.go and tempodb/config.go (`CompactorConfig`): `compactor.compaction.*`
 * - modules/frontend/config.go and modules/frontend/search_sharder.go: `query_frontend.search.*`
 * - modules/querier/config.go: `querier.search.*`
 * - modules/generator/config.go and modules/generator/storage/config.go: `metrics_generator.storage.path`
 * - modules/storage/config.go, tempodb/config.go, tempodb/wal/wal.go, tempodb/backend/local/config.go,
 *   tempodb/backend/s3/config.go, tempodb/backend/gcs/config.go: `storage.trace.*`; the backend
 *   names from tempodb/backend/backend.go
 * - tempodb/encoding/common/config.go: `storage.trace.block.*`; block versions from
 *   tempodb/encoding/versioned.go
 * - tempodb/backend/block_meta.go: the keys and values of a dedicated column
 * - pkg/usagestats/config.go: `usage_report.reporting_enabled`
 */
export const TEMPO_KEYS: ReadonlyMap<string, ValueKind> = new Map<string, ValueKind>([
  ['target', 'string'],
  ['stream_over_http_enabled', 'bool'],

  ['server.http_listen_port', 'int'],
  ['server.grpc_listen_port', 'int'],
  ['server.log_level', { oneOf: ['debug', 'info', 'warn', 'error'] }],
  ['server.log_format', { oneOf: ['logfmt', 'json'] }],

  ['distributor.receivers.otlp.protocols.grpc.endpoint', 'address'],
  ['distributor.receivers.otlp.protocols.http.endpoint', 'address'],

  ['ingester.trace_idle_period', 'duration'],
  ['ingester.max_block_duration', 'duration'],
  ['ingester.complete_block_timeout', 'duration'],

  ['compactor.compaction.block_retention', 'duration'],
  ['compactor.compaction.compacted_block_retention', 'duration'],
  ['compactor.compaction.compaction_window', 'duration'],

  ['query_frontend.search.max_duration', 'duration'],
  ['query_frontend.search.query_backend_after', 'duration'],
  ['query_frontend.search.query_ingesters_until', 'duration'],
  ['query_frontend.search.default_result_limit', 'int'],
  ['query_frontend.search.max_result_limit', 'int'],
  ['query_frontend.search.concurrent_jobs', 'int'],
  ['query_frontend.search.target_bytes_per_job', 'int'],
  ['querier.search.query_timeout', 'duration'],

  ['metrics_generator.storage.path', 'string'],

  ['storage.trace.backend', { oneOf: ['local', 's3', 'gcs', 'azure'] }],
  ['storage.trace.blocklist_poll', 'duration'],
  ['storage.trace.wal.path', 'string'],
  ['storage.trace.local.path', 'string'],
  ['storage.trace.s3.bucket', 'string'],
  ['storage.trace.s3.prefix', 'string'],
  ['storage.trace.s3.endpoint', 'string'],
  ['storage.trace.s3.region', 'string'],
  ['storage.trace.s3.access_key', 'string'],
  ['storage.trace.s3.secret_key', 'string'],
  ['storage.trace.s3.insecure', 'bool'],
  ['storage.trace.s3.forcepathstyle', 'bool'],
  ['storage.trace.gcs.bucket_name', 'string'],
  ['storage.trace.gcs.prefix', 'string'],
  ['storage.trace.block.version', { oneOf: ['vParquet3', 'vParquet4'] }],
  ['storage.trace.block.parquet_dedicated_columns', 'list'],
  ['storage.trace.block.parquet_dedicated_columns[].scope', { oneOf: ['span', 'resource'] }],
  ['storage.trace.block.parquet_dedicated_columns[].name', 'string'],
  ['storage.trace.block.parquet_dedicated_columns[].type', { oneOf: ['string'] }],

  ['usage_report.reporting_enabled', 'bool'],
]);

/**
 * Dedicated columns Tempo 2.5 to 2.8 accept per scope (`maxSupportedSpanColumns` and
 * `maxSupportedResourceColumns` in tempodb/backend/block_meta.go), string values only.
 */
export const MAX_DEDICATED_COLUMNS_PER_SCOPE = 10;

// ---------------------------------------------------------------------------------------------
// Loading the file as Tempo does
// ---------------------------------------------------------------------------------------------

export const TEMPO_CONFIG_URL = new URL('../../tempo/tempo.yaml', import.meta.url);

const ENV_REFERENCE = /\$\{([A-Z][A-Z0-9_]*)(?::-([^}$]*))?\}/g;

/**
 * The environment variables a text reads, with their defaults. Tempo's `-config.expand-env`
 * (github.com/drone/envsubst) reads every `$` of the file, comments included, and knows more forms
 * than these two; the file keeps to `${NAME}` and `${NAME:-default}`, and any other `$` is
 * reported in `strays`.
 */
export function envReferences(text: string): { references: Map<string, string | undefined>; strays: string[] } {
  const references = new Map<string, string | undefined>();
  for (const match of text.matchAll(ENV_REFERENCE)) references.set(match[1], match[2]);
  const strays = text
    .replace(ENV_REFERENCE, '')
    .split('\n')
    .filter((line) => line.includes('$'));
  return { references, strays };
}

/**
 * The text as `-config.expand-env` makes it: `${NAME}` becomes the variable's value (empty when
 * unset), `${NAME:-default}` the default when the variable is unset or empty.
 */
export function expandEnv(text: string, env: Readonly<Record<string, string>>): string {
  const { strays } = envReferences(text);
  if (strays.length > 0) throw new Error(`a "$" that is not \${NAME} or \${NAME:-default}: ${strays.join(' | ')}`);
  return text.replace(ENV_REFERENCE, (_match, name: string, fallback: string | undefined) => {
    const value = env[name] ?? '';
    return value === '' && fallback !== undefined ? fallback : value;
  });
}

export type TempoConfig = Record<string, unknown>;

/** tempo/tempo.yaml, expanded with `env` (none set by default), then parsed. */
export function loadTempoConfig(env: Readonly<Record<string, string>> = {}): TempoConfig {
  return parse(expandEnv(readFileSync(TEMPO_CONFIG_URL, 'utf8'), env)) as TempoConfig;
}

/** The value at a dotted path, or undefined. */
export function valueAt(config: unknown, path: string): unknown {
  let value: unknown = config;
  for (const key of path.split('.')) {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

// ---------------------------------------------------------------------------------------------
// Go durations
// ---------------------------------------------------------------------------------------------

const NANOSECONDS: Record<string, number> = {
  ns: 1,
  us: 1e3,
  'µs': 1e3, // U+00B5
  'μs': 1e3, // U+03BC
  ms: 1e6,
  s: 1e9,
  m: 60e9,
  h: 3600e9,
};
/** Go's durations are int64 nanoseconds. */
const MAX_NANOSECONDS = 2 ** 63 - 1;

/**
 * Seconds in a Go duration string, read as Go's time.ParseDuration reads it: an optional sign,
 * then one or more decimal numbers each with a unit (ns, us, µs, ms, s, m, h), or a bare `0`.
 * There is no `d`: seven days is `168h`. Throws on anything else, like Go.
 */
export function parseGoDuration(text: string): number {
  let rest = text;
  let sign = 1;
  if (rest.startsWith('-') || rest.startsWith('+')) {
    if (rest.startsWith('-')) sign = -1;
    rest = rest.slice(1);
  }
  if (rest === '0') return 0;
  if (rest === '') throw new Error(`invalid duration "${text}"`);
  let nanoseconds = 0;
  while (rest !== '') {
    const number = /^(\d*)(?:\.(\d*))?/.exec(rest)!;
    const [whole, integer, fraction] = [number[0], number[1], number[2] ?? ''];
    if (integer === '' && fraction === '') throw new Error(`invalid duration "${text}"`);
    rest = rest.slice(whole.length);
    const unit = /^[^\d.]*/.exec(rest)![0];
    if (unit === '') throw new Error(`missing unit in duration "${text}"`);
    const scale = NANOSECONDS[unit];
    if (scale === undefined) throw new Error(`unknown unit "${unit}" in duration "${text}"`);
    rest = rest.slice(unit.length);
    nanoseconds += Number(`${integer || '0'}.${fraction || '0'}`) * scale;
    if (nanoseconds > MAX_NANOSECONDS) throw new Error(`invalid duration "${text}"`);
  }
  return (sign * nanoseconds) / 1e9;
}

// ---------------------------------------------------------------------------------------------
// Checking keys and values
// ---------------------------------------------------------------------------------------------

function isMapping(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Sections (the paths above a known key), so that a mapping there is walked into. */
function knownSections(keys: ReadonlyMap<string, ValueKind>): Set<string> {
  const sections = new Set<string>();
  for (const path of keys.keys()) {
    const parts = path.split('.');
    for (let i = 1; i < parts.length; i++) sections.add(parts.slice(0, i).join('.'));
  }
  return sections;
}

/** Why a value does not fit its kind, or undefined when it does. */
function valueProblem(kind: ValueKind, value: unknown): string | undefined {
  // A key left empty is null, which Tempo's decoder reads as the zero value.
  if (value === null) return undefined;
  if (typeof kind === 'object') {
    return typeof value === 'string' && kind.oneOf.includes(value) ? undefined : `is ${JSON.stringify(value)}, not one of ${kind.oneOf.join(', ')}`;
  }
  switch (kind) {
    case 'string':
      return typeof value === 'string' ? undefined : `is ${JSON.stringify(value)}, not a string`;
    case 'bool':
      return typeof value === 'boolean' ? undefined : `is ${JSON.stringify(value)}, not true or false`;
    case 'int':
      return Number.isInteger(value) ? undefined : `is ${JSON.stringify(value)}, not an integer`;
    case 'list':
      return Array.isArray(value) ? undefined : `is ${JSON.stringify(value)}, not a list`;
    case 'address': {
      const match = typeof value === 'string' ? /^(.*):(\d+)$/.exec(value) : null;
      const port = match ? Number(match[2]) : 0;
      return port >= 1 && port <= 65535 ? undefined : `is ${JSON.stringify(value)}, not host:port`;
    }
    case 'duration':
      if (typeof value === 'number') return `is the bare number ${value}, read as nanoseconds: give it a unit (168h)`;
      if (typeof value !== 'string') return `is ${JSON.stringify(value)}, not a duration`;
      try {
        parseGoDuration(value);
        return undefined;
      } catch (error) {
        return (error as Error).message;
      }
  }
}

/**
 * Every key of a Tempo configuration that `keys` does not list, and every value that does not fit
 * its key's kind, as readable problems.
 */
export function keyProblems(config: unknown, keys: ReadonlyMap<string, ValueKind> = TEMPO_KEYS): string[] {
  const sections = knownSections(keys);
  const problems: string[] = [];
  const walk = (node: unknown, prefix: string, shown: string): void => {
    if (!isMapping(node)) {
      problems.push(`${shown || '(top)'} is ${JSON.stringify(node)}, not a mapping of keys`);
      return;
    }
    for (const [key, value] of Object.entries(node)) {
      const path = prefix ? `${prefix}.${key}` : key;
      const where = shown ? `${shown}.${key}` : key;
      const kind = keys.get(path);
      if (kind !== undefined) {
        const problem = valueProblem(kind, value);
        if (problem) problems.push(`${where} ${problem}`);
        else if (kind === 'list' && Array.isArray(value)) value.forEach((item, i) => walk(item, `${path}[]`, `${where}[${i}]`));
      } else if (sections.has(path)) {
        if (value !== null) walk(value, path, where);
      } else {
        problems.push(`${where} is not a key Tempo reads`);
      }
    }
  };
  walk(config, '', '');
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Dedicated columns and the registry
// ---------------------------------------------------------------------------------------------

export interface DedicatedColumn {
  scope?: unknown;
  name?: unknown;
  type?: unknown;
}

export function dedicatedColumns(config: TempoConfig): DedicatedColumn[] {
  return (valueAt(config, 'storage.trace.block.parquet_dedicated_columns') ?? []) as DedicatedColumn[];
}

const require = createRequire(import.meta.url);
const modelDir = join(dirname(require.resolve('@otel-checkout/semantic-conventions/package.json')), 'model');

interface ModelGroup {
  attributes?: Array<{ id?: string; ref?: string; note?: string; type?: string | { members: Array<{ value: unknown }> } }>;
}

function modelGroups(file: string): ModelGroup[] {
  return (parse(readFileSync(join(modelDir, file), 'utf8')) as { groups: ModelGroup[] }).groups;
}

/** Where an attribute is set, and whether its values are strings (enums of strings included). */
export interface RegistryAttributeScope {
  scope: 'span' | 'resource';
  string: boolean;
}

/**
 * The attributes the registry names, with the scope they live in: its own `payment.*` and
 * `checkout.*` attributes that its span definitions (model/spans.yaml) set on spans, and the
 * OpenTelemetry resource attributes its metrics name as such (model/metrics.yaml, "A resource
 * attribute of the span"), which OpenTelemetry defines as strings.
 */
export function registryAttributeScopes(): Map<string, RegistryAttributeScope> {
  const types = new Map<string, boolean>();
  for (const file of ['registry-payment.yaml', 'registry-checkout.yaml']) {
    for (const group of modelGroups(file)) {
      for (const attribute of group.attributes ?? []) {
        if (!attribute.id) continue;
        const type = attribute.type;
        types.set(attribute.id, typeof type === 'object' ? type.members.every((m) => typeof m.value === 'string') : type === 'string');
      }
    }
  }
  const scopes = new Map<string, RegistryAttributeScope>();
  for (const group of modelGroups('spans.yaml')) {
    for (const { ref } of group.attributes ?? []) {
      if (ref && types.has(ref)) scopes.set(ref, { scope: 'span', string: types.get(ref)! });
    }
  }
  for (const group of modelGroups('metrics.yaml')) {
    for (const { ref, note } of group.attributes ?? []) {
      if (ref && !types.has(ref) && /resource attribute/i.test(note ?? '')) scopes.set(ref, { scope: 'resource', string: true });
    }
  }
  return scopes;
}

/** What is wrong with a list of dedicated columns, for Tempo and against the registry. */
export function dedicatedColumnProblems(columns: readonly DedicatedColumn[], registry = registryAttributeScopes()): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  const perScope = new Map<unknown, number>();
  for (const column of columns) {
    const name = String(column.name);
    // Tempo fills in no default for a column read from its YAML file: an empty scope or type stops it.
    for (const key of ['scope', 'name', 'type'] as const) {
      if (typeof column[key] !== 'string' || column[key] === '') problems.push(`column ${name}: no ${key}`);
    }
    if (column.type !== 'string') problems.push(`column ${name}: type ${String(column.type)}, Tempo only has string columns`);
    if (seen.has(name)) problems.push(`column ${name}: listed twice`);
    seen.add(name);
    perScope.set(column.scope, (perScope.get(column.scope) ?? 0) + 1);
    const known = registry.get(name);
    if (!known) {
      problems.push(`column ${name}: not an attribute the registry names`);
      continue;
    }
    if (known.scope !== column.scope) problems.push(`column ${name}: a ${known.scope} attribute, given scope ${String(column.scope)}`);
    if (!known.string) problems.push(`column ${name}: not a string attribute in the registry`);
  }
  for (const [scope, count] of perScope) {
    if (count > MAX_DEDICATED_COLUMNS_PER_SCOPE) problems.push(`${count} columns of scope ${String(scope)}, Tempo takes ${MAX_DEDICATED_COLUMNS_PER_SCOPE}`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// What on-call queries compare
// ---------------------------------------------------------------------------------------------

export interface OnCallQuery {
  source: string;
  query: string;
}

/**
 * Every TraceQL query on-call runs: the saved ones (tempo/traceql-queries.yaml), the ones the
 * alerts name in their annotations (label templates filled in), the dashboard's and those its
 * panel descriptions quote.
 */
export function onCallQueries(): OnCallQuery[] {
  const saved = (parse(readFileSync(new URL('../../tempo/traceql-queries.yaml', import.meta.url), 'utf8')) as { queries: Array<{ name: string; query: string }> }).queries.map(
    ({ name, query }) => ({ source: `saved: ${name}`, query }),
  );
  const rules = parse(readFileSync(new URL('../../prometheus/payment-rules.yaml', import.meta.url), 'utf8')) as {
    groups: Array<{ rules: Array<{ alert?: string; annotations?: Record<string, string> }> }>;
  };
  const alerts = rules.groups
    .flatMap((group) => group.rules)
    .filter((rule) => rule.alert !== undefined)
    .flatMap((rule) =>
      Object.values(rule.annotations ?? {})
        .flatMap((text) => [...text.matchAll(/`(\{[^`]*)`/g)].map((match) => match[1]))
        .map((query) => ({ source: `alert: ${rule.alert}`, query: query.replace(/\{\{ \$labels\.[a-z_]+ \}\}/g, 'example') })),
    );
  const dashboard = targetsOf(loadDashboard().panels)
    .filter((t) => t.kind === 'tempo' && t.target.query)
    .map((t) => ({ source: `dashboard: ${t.panel.title ?? t.panel.id}`, query: substituteVariables(t.target.query!) }));
  // The queries a panel's description tells on-call to run in Explore.
  const described = allPanels(loadDashboard().panels).flatMap((panel) =>
    [...(panel.description ?? '').matchAll(/`(\{[^`]*)`/g)].map((match) => ({ source: `dashboard description: ${panel.title ?? panel.id}`, query: match[1] })),
  );
  return [...saved, ...alerts, ...dashboard, ...described];
}

type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

export interface ComparedAttribute {
  scope: 'span' | 'resource';
  name: string;
}

/**
 * The attributes a TraceQL query compares inside a spanset filter (`=`, `!=`, `=~`, `>`, `!= nil`
 * ...), with their scope; an unscoped `.name` counts as a span attribute. Attributes only grouped
 * by (`by(...)`) are not compared: Tempo reads them on spans already found.
 */
export function comparedAttributes(query: string): ComparedAttribute[] {
  const found: ComparedAttribute[] = [];
  parser.parse(query).iterate({
    enter(n) {
      if (n.name !== 'AttributeField') return;
      if (n.node.parent?.nextSibling?.name !== 'FieldOp') return;
      let inFilter = false;
      for (let up: SyntaxNode | null = n.node.parent; up; up = up.parent) if (up.name === 'SpansetFilter') inFilter = true;
      if (!inFilter) return;
      const scopeNode = n.node.firstChild;
      const identifier = n.node.getChild('Identifier');
      if (!scopeNode || !identifier) return;
      const scope = scopeNode.name === 'Resource' ? 'resource' : scopeNode.name === 'Span' || scopeNode.name === 'Identifier' ? 'span' : undefined;
      if (scope) found.push({ scope, name: query.slice(identifier.from, identifier.to) });
    },
  });
  return found;
}

/**
 * The string attributes the on-call queries compare that have no dedicated column of their scope,
 * each with the first query that compares it.
 */
export function uncoveredAttributes(
  columns: readonly DedicatedColumn[],
  queries: readonly OnCallQuery[],
  registry = registryAttributeScopes(),
): string[] {
  const covered = new Set(columns.map((column) => `${String(column.scope)}:${String(column.name)}`));
  const missing = new Map<string, string>();
  for (const { source, query } of queries) {
    for (const { scope, name } of comparedAttributes(query)) {
      if (!registry.get(name)?.string) continue;
      const key = `${scope}:${name}`;
      if (!covered.has(key) && !missing.has(key)) missing.set(key, `${scope} ${name} (${source})`);
    }
  }
  return [...missing.values()];
}
