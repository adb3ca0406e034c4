import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { parse } from 'yaml';

const require = createRequire(import.meta.url);
const modelDir = join(dirname(require.resolve('@otel-checkout/semantic-conventions/package.json')), 'model');

interface ModelAttribute {
  id?: string;
  ref?: string;
  requirement_level?: string | Record<string, unknown>;
  type?: string | { members: { value: string }[] };
}
interface ModelGroup {
  id: string;
  type?: string;
  metric_name?: string;
  instrument?: string;
  unit?: string;
  attributes?: ModelAttribute[];
}

function groups(file: string): ModelGroup[] {
  return (parse(readFileSync(join(modelDir, file), 'utf8')) as { groups: ModelGroup[] }).groups;
}

export interface RegistryMetric {
  name: string;
  instrument: 'counter' | 'histogram';
  unit: string;
  /** Attribute names, span and resource attributes alike. */
  attributes: string[];
  /** The attributes the registry requires of every measurement; the others a span may lack. */
  required: string[];
}

/** The metrics `@otel-checkout/semantic-conventions` defines (model/metrics.yaml). */
export function registryMetrics(): RegistryMetric[] {
  return groups('metrics.yaml').map((group) => ({
    name: group.metric_name!,
    instrument: group.instrument as RegistryMetric['instrument'],
    unit: group.unit!,
    attributes: (group.attributes ?? []).map((attribute) => attribute.ref!),
    required: (group.attributes ?? []).filter((attribute) => attribute.requirement_level === 'required').map((attribute) => attribute.ref!),
  }));
}

/** The attributes the registry's own namespaces define (those with an `id`). */
function registryAttributeModels(): Array<ModelAttribute & { id: string }> {
  return ['registry-payment.yaml', 'registry-checkout.yaml']
    .flatMap((file) => groups(file))
    .flatMap((group) => group.attributes ?? [])
    .filter((attribute): attribute is ModelAttribute & { id: string } => attribute.id !== undefined);
}

/** The type of every attribute of the registry's own namespaces (`string`, `double`, `int`, ...; `enum` for enums). */
export function registryAttributeTypes(): Map<string, string> {
  return new Map(registryAttributeModels().map((a) => [a.id, typeof a.type === 'object' ? 'enum' : (a.type ?? 'string')]));
}

/** Every attribute of the registry's own namespaces, with its enum values when it has some. */
export function registryAttributes(): Map<string, string[] | undefined> {
  return new Map(registryAttributeModels().map((a) => [a.id, typeof a.type === 'object' ? a.type.members.map((member) => member.value) : undefined]));
}

/**
 * OpenTelemetry's own attributes that the registry's spans and events reference (`error.type`,
 * `http.response.status_code`, ...): a query may name them on a payment span too.
 */
export function referencedOtelAttributes(): Set<string> {
  const own = new Set(registryAttributeModels().map((a) => a.id));
  return new Set(
    ['spans.yaml', 'events.yaml']
      .flatMap((file) => groups(file))
      .flatMap((group) => group.attributes ?? [])
      .map((attribute) => attribute.ref)
      .filter((ref): ref is string => ref !== undefined && !own.has(ref)),
  );
}

/** Span names and span event names the registry defines. */
export function registrySpanAndEventNames(): { spans: string[]; events: string[] } {
  const spans = groups('spans.yaml').map((group) => (group as ModelGroup & { span_name: string }).span_name);
  const events = groups('events.yaml').map((group) => (group as ModelGroup & { name: string }).name);
  return { spans, events };
}

/**
 * A metric's name as the collector's Prometheus exporter writes it: dots to underscores, the
 * unit's suffix for seconds, `_total` for counters (units in braces are annotations, dropped).
 */
export function prometheusName(metric: Pick<RegistryMetric, 'name' | 'unit'> & { instrument: RegistryMetric['instrument'] | 'gauge' }): string {
  const base = metric.name.replace(/\./g, '_');
  if (metric.instrument === 'counter') return `${base}_total`;
  return metric.unit === 's' ? `${base}_seconds` : base;
}

/** An attribute's name as a Prometheus label. */
export function prometheusLabel(attribute: string): string {
  return attribute.replace(/\./g, '_');
}
