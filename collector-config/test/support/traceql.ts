import { parser } from '@grafana/lezer-traceql';
import { keptResourceAttributes, loadCollectorConfig } from './collector-config.js';
import { referencedOtelAttributes, registryAttributes, registryAttributeTypes, registrySpanAndEventNames } from './registry.js';

type SyntaxNode = ReturnType<typeof parser.parse>['topNode'];

/** The string compared with a field (`field = "value"`), when the comparison is one. */
function comparedString(field: SyntaxNode | null, query: string): { op: string; value: string } | undefined {
  const op = field?.nextSibling;
  const value = op?.nextSibling?.getChild('Static')?.getChild('String');
  if (op?.name !== 'FieldOp' || !value) return undefined;
  return { op: query.slice(op.from, op.to), value: JSON.parse(query.slice(value.from, value.to)) as string };
}

/** The kind of number literal a field is compared with (`Integer` or `Float`), when it is one. */
function comparedNumberKind(field: SyntaxNode | null): string | undefined {
  const op = field?.nextSibling;
  if (op?.name !== 'FieldOp') return undefined;
  const literal = op.nextSibling?.getChild('Static')?.firstChild;
  return literal?.name === 'Integer' || literal?.name === 'Float' ? literal.name : undefined;
}

/**
 * The values a comparison names: the string of `=` and `!=`, and each alternative of a regular
 * expression that is only a list of literals (`=~ "failed|cancelled"`); none otherwise.
 */
function comparedValues(compared: { op: string; value: string } | undefined): string[] {
  if (compared === undefined) return [];
  if (compared.op === '=' || compared.op === '!=') return [compared.value];
  if ((compared.op === '=~' || compared.op === '!~') && /^[\w.|-]+$/.test(compared.value)) return compared.value.split('|');
  return [];
}

/**
 * What is wrong with a TraceQL query, checked with Grafana's TraceQL grammar: syntax errors,
 * `span.`/unscoped attributes neither the registry defines nor its spans and events reference
 * from OpenTelemetry's own (`error.type`), values an enum attribute does not
 * have, span or event names the registry does not define, and `resource.` attributes other than
 * those the collector keeps as dimensions (a misspelt one finds nothing, silently).
 */
export function traceqlProblems(query: string): string[] {
  const attributes = registryAttributes();
  const otelAttributes = referencedOtelAttributes();
  const types = registryAttributeTypes();
  const { spans, events } = registrySpanAndEventNames();
  const resourceAttributes = new Set(keptResourceAttributes(loadCollectorConfig()));
  const problems: string[] = [];
  const tree = parser.parse(query);
  const text = (from: number, to: number): string => query.slice(from, to);
  tree.iterate({
    enter(n) {
      if (n.type.isError) {
        problems.push(`syntax error at ${n.from}: ${JSON.stringify(text(n.from, Math.max(n.to, n.from + 10)))}`);
        return;
      }
      if (n.name === 'AttributeField') {
        const scope = n.node.firstChild;
        const identifier = n.node.getChild('Identifier');
        const scoped = scope && scope.name !== 'Identifier' ? scope.name : 'none';
        if (identifier && scoped === 'Resource') {
          const attribute = text(identifier.from, identifier.to);
          if (!resourceAttributes.has(attribute)) problems.push(`\`resource.${attribute}\` is not a resource attribute the collector keeps`);
          return;
        }
        if (identifier && (scoped === 'Span' || scoped === 'none')) {
          const attribute = text(identifier.from, identifier.to);
          if (otelAttributes.has(attribute)) return;
          if (!attributes.has(attribute)) {
            problems.push(`\`${attribute}\` is not a registry attribute`);
            return;
          }
          const members = attributes.get(attribute);
          const compared = comparedString(n.node.parent, query);
          for (const value of comparedValues(compared)) {
            if (members && !members.includes(value)) problems.push(`"${value}" is not a value of \`${attribute}\``);
          }
          // Tempo reads a float attribute only from its float column, and an integer literal
          // makes it read the integer column: `delay > 300` matches no span with a delay of 412.5.
          const number = comparedNumberKind(n.node.parent);
          const type = types.get(attribute);
          if (number === 'Integer' && type === 'double') problems.push(`\`${attribute}\` is a double: compare it with a float (300.0, not 300)`);
          if (number === 'Float' && type === 'int') problems.push(`\`${attribute}\` is an int: compare it with an integer`);
        }
      }
      if (n.name === 'IntrinsicField') {
        const intrinsic = text(n.from, n.to);
        const compared = comparedString(n.node.parent, query);
        if (!compared || !['=', '!='].includes(compared.op)) return;
        const name = compared.value;
        if (intrinsic === 'name') {
          const known = spans.includes(name) || spans.some((span) => name.startsWith(`${span} `) && name.length > span.length + 1);
          if (!known) problems.push(`\`${name}\` is not a registry span name`);
        } else if (intrinsic === 'event:name' && !events.includes(name)) {
          problems.push(`\`${name}\` is not a registry event name`);
        }
      }
    },
  });
  return problems;
}
