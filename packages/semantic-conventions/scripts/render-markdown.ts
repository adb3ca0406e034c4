/** Renders the registry as the Markdown reference `docs/registry.md`. */
import { isEnumType } from './model.js';
import type { AttributeDefinition, AttributeGroup, AttributeReference, ExampleValue, Registry, RequirementLevel } from './model.js';
import { attributeConstant, enumValueConstant, eventConstant, metricConstant, spanNameConstant } from './naming.js';
import { GENERATED_HEADER_LINES } from './render-typescript.js';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\s+/g, ' ').trim();
}

function code(text: string | number | boolean): string {
  return `\`${String(text)}\``;
}

function example(value: ExampleValue): string {
  return typeof value === 'string' ? code(JSON.stringify(value)) : code(value);
}

function table(head: readonly string[], rows: readonly (readonly string[])[]): string {
  return [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ].join('\n');
}

function anchor(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_ -]/g, '').replace(/ /g, '-');
}

function typeLabel(attr: AttributeDefinition): string {
  return isEnumType(attr.type) ? 'enum' : attr.type;
}

function requirement(level: RequirementLevel): string {
  return typeof level === 'string' ? level.replace('_', '-') : `conditionally required: ${level.conditionally_required}`;
}

function entryPoint(stability: string): string {
  return stability === 'stable' ? '`.`' : '`./incubating`';
}

/** OpenTelemetry's attribute registry has one page per namespace (the first segment of the name). */
function openTelemetryRegistryUrl(attribute: string): string {
  return `https://opentelemetry.io/docs/specs/semconv/registry/attributes/${attribute.split('.')[0]}/`;
}

function referenceRows(registry: Registry, refs: readonly AttributeReference[]): string[][] {
  return refs.map((ref) => {
    const own = registry.attributes.get(ref.ref);
    const name = own ? `[${code(ref.ref)}](#${anchor(ref.ref)})` : `${code(ref.ref)} ([OpenTelemetry](${openTelemetryRegistryUrl(ref.ref)}))`;
    const type = own ? typeLabel(own) : '';
    const brief = [own?.brief ?? '', ref.note ?? ''].filter((s) => s !== '').join(' ');
    return [name, type, requirement(ref.requirementLevel), brief];
  });
}

function renderAttribute(attr: AttributeDefinition): string {
  const parts: string[] = [
    `#### ${attr.id}`,
    [
      `${attr.brief}`,
      '',
      `- Constant: ${code(attributeConstant(attr.id))} (entry point ${entryPoint(attr.stability)})`,
      `- Type: ${typeLabel(attr)}`,
      `- Stability: ${attr.stability}`,
      ...(attr.examples.length > 0 ? [`- Examples: ${attr.examples.map(example).join(', ')}`] : []),
    ].join('\n'),
  ];
  if (attr.note) parts.push(attr.note);
  if (isEnumType(attr.type)) {
    parts.push(
      table(
        ['Value', 'Constant', 'Stability', 'Meaning'],
        attr.type.members.map((m) => [
          code(m.value),
          code(enumValueConstant(attr.id, m.id)),
          m.stability,
          [m.brief, m.note ?? ''].join(' '),
        ]),
      ),
    );
  }
  return parts.join('\n\n');
}

/** Stable groups first (what most readers look for), then by id; independent of file names. */
function attributeGroupsInOrder(registry: Registry): AttributeGroup[] {
  const rank = (g: AttributeGroup): number => (g.stability === 'stable' ? 0 : 1);
  return [...registry.attributeGroups].sort((a, b) => rank(a) - rank(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/** The Markdown reference, as the text of `docs/registry.md`. */
export function renderMarkdown(registry: Registry): string {
  const parts: string[] = [
    `<!-- ${GENERATED_HEADER_LINES.join(' ')} -->`,
    '# Payment semantic conventions: registry',
    [
      'Every attribute, span name, metric and span event that otel-checkout records, generated from',
      '`model/*.yaml`. Stable names are exported from `@otel-checkout/semantic-conventions` (entry point `.`)',
      'and follow semver; development names are exported, with the stable ones, from',
      '`@otel-checkout/semantic-conventions/incubating` (entry point `./incubating`) and may change in a minor release.',
      'OpenTelemetry attributes (`http.*`, `url.*`, `server.address`, `error.type`, `exception.*`,',
      '`service.version`, `deployment.environment.name`, `user.*`) are referenced, not redefined.',
    ].join('\n'),
    '## Contents',
    [
      '- [Attributes](#attributes)',
      ...attributeGroupsInOrder(registry).map((g) => `  - [${g.id}](#${anchor(g.id)})`),
      '- [Spans](#spans)',
      '- [Metrics](#metrics)',
      '- [Events](#events)',
    ].join('\n'),
    '## Attributes',
  ];

  for (const group of attributeGroupsInOrder(registry)) {
    parts.push(`### ${group.id}`);
    parts.push(group.brief + (group.note ? `\n\n${group.note}` : ''));
    parts.push(
      table(
        ['Attribute', 'Type', 'Stability', 'Brief', 'Examples'],
        group.attributes.map((a) => [
          `[${code(a.id)}](#${anchor(a.id)})`,
          typeLabel(a),
          a.stability,
          a.brief,
          a.examples.map(example).join(', '),
        ]),
      ),
    );
    for (const attr of group.attributes) parts.push(renderAttribute(attr));
  }

  parts.push('## Spans');
  parts.push(
    table(
      ['Span name', 'Kind', 'Stability', 'Constant', 'Brief'],
      registry.spans.map((s) => [
        `[${code(s.spanName)}](#${anchor(`span ${s.spanName}`)})`,
        s.spanKind.toUpperCase(),
        s.stability,
        code(spanNameConstant(s.spanName)),
        s.brief,
      ]),
    ),
  );
  for (const span of registry.spans) {
    parts.push(`### Span ${span.spanName}`);
    parts.push(
      [
        span.brief,
        '',
        `- Constant: ${code(spanNameConstant(span.spanName))} (entry point ${entryPoint(span.stability)})`,
        `- Kind: ${span.spanKind.toUpperCase()}`,
        `- Stability: ${span.stability}`,
      ].join('\n'),
    );
    if (span.note) parts.push(span.note);
    parts.push(table(['Attribute', 'Type', 'Requirement', 'Brief'], referenceRows(registry, span.attributes)));
  }

  parts.push('## Metrics');
  parts.push(
    'The libraries export no metrics: the collector derives these from spans and span events (the `signaltometrics` and `count` connectors, before tail sampling) and Prometheus recording rules.',
  );
  parts.push(
    table(
      ['Metric', 'Instrument', 'Unit', 'Stability', 'Constant', 'Brief'],
      registry.metrics.map((m) => [
        `[${code(m.metricName)}](#${anchor(`metric ${m.metricName}`)})`,
        m.instrument,
        code(m.unit),
        m.stability,
        code(metricConstant(m.metricName)),
        m.brief,
      ]),
    ),
  );
  for (const metric of registry.metrics) {
    parts.push(`### Metric ${metric.metricName}`);
    parts.push(metric.brief + (metric.note ? `\n\n${metric.note}` : ''));
    parts.push(table(['Attribute', 'Type', 'Requirement', 'Brief'], referenceRows(registry, metric.attributes)));
  }

  parts.push('## Events');
  parts.push(
    table(
      ['Event', 'Stability', 'Constant', 'Brief'],
      registry.events.map((e) => [
        `[${code(e.name)}](#${anchor(`event ${e.name}`)})`,
        e.stability,
        code(eventConstant(e.name)),
        e.brief,
      ]),
    ),
  );
  for (const event of registry.events) {
    parts.push(`### Event ${event.name}`);
    parts.push(event.brief + (event.note ? `\n\n${event.note}` : ''));
    parts.push(table(['Attribute', 'Type', 'Requirement', 'Brief'], referenceRows(registry, event.attributes)));
  }
  return `${parts.join('\n\n')}\n`;
}
