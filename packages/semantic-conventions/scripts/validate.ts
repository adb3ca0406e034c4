/**
 * Reads `model/*.yaml` and checks it against the model shape. Every problem is collected
 * (not just the first) and reported as one `ModelValidationError` whose entries name the
 * file and the id. The generator calls `validateModel` before it writes anything.
 *
 * As a script (`npm run validate`): validates `model/` and exits non-zero on problems.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse, YAMLParseError } from 'yaml';
import { ModelValidationError } from './errors.js';
import type { ModelProblem } from './errors.js';
import {
  GROUP_TYPES,
  INSTRUMENTS,
  PRIMITIVE_TYPES,
  REQUIREMENT_LEVELS,
  SPAN_KINDS,
  STABILITIES,
} from './model.js';
import type {
  AttributeDefinition,
  AttributeGroup,
  AttributeReference,
  EnumMember,
  EventDefinition,
  ExampleValue,
  Group,
  MetricDefinition,
  ModelSource,
  PrimitiveType,
  Registry,
  RequirementLevel,
  SpanDefinition,
  Stability,
} from './model.js';
import { attributeConstant, enumValueConstant, eventConstant, metricConstant, spanNameConstant } from './naming.js';
import { openTelemetryAttributeNames } from './otel-attributes.js';

export const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const MODEL_DIR = join(PACKAGE_ROOT, 'model');

/** The namespaces this registry may define attributes in; everything else is referenced. */
const OWN_NAMESPACES = ['payment.', 'checkout.'];

const NAME_PATTERN = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$/;
const MEMBER_ID_PATTERN = /^[a-z][a-z0-9_]*$/;

const COMMON_GROUP_KEYS = ['id', 'type', 'stability', 'brief', 'note', 'attributes'];
const GROUP_KEYS: Record<(typeof GROUP_TYPES)[number], readonly string[]> = {
  attribute_group: COMMON_GROUP_KEYS,
  span: [...COMMON_GROUP_KEYS, 'span_name', 'span_kind'],
  metric: [...COMMON_GROUP_KEYS, 'metric_name', 'instrument', 'unit'],
  event: [...COMMON_GROUP_KEYS, 'name'],
};
const ATTRIBUTE_KEYS = ['id', 'type', 'stability', 'brief', 'examples', 'note'];
const MEMBER_KEYS = ['id', 'value', 'brief', 'stability', 'note'];
const REFERENCE_KEYS = ['ref', 'requirement_level', 'note'];

/** Reads every `*.yaml` file of a directory, in name order; `file` is shown relative to `relativeTo`. */
export function loadModelSources(modelDir: string = MODEL_DIR, relativeTo: string = PACKAGE_ROOT): ModelSource[] {
  return readdirSync(modelDir)
    .filter((name) => name.endsWith('.yaml') || name.endsWith('.yml'))
    .sort()
    .map((name) => {
      const path = join(modelDir, name);
      return { file: relative(relativeTo, path).split('\\').join('/'), text: readFileSync(path, 'utf8') };
    });
}

type Dict = Record<string, unknown>;

function isDict(value: unknown): value is Dict {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function includes<T extends string>(list: readonly T[], value: unknown): value is T {
  return typeof value === 'string' && (list as readonly string[]).includes(value);
}

/** The id a problem is filed under, optionally with what inside it (an enum member, a reference). */
type Where = string | { readonly id: string; readonly context: string };

/** Collects problems while walking the files. */
class Checker {
  readonly problems: ModelProblem[] = [];

  report(file: string, where: Where, message: string): void {
    if (typeof where === 'string') this.problems.push({ file, id: where, message });
    else this.problems.push({ file, id: where.id, message: `${where.context}: ${message}` });
  }

  keys(file: string, id: Where, node: Dict, allowed: readonly string[], what: string): void {
    for (const key of Object.keys(node)) {
      if (!allowed.includes(key)) {
        const hint = suggestion(key, allowed) || ` (allowed: ${allowed.join(', ')})`;
        this.report(file, id, `unknown key '${key}' in ${what}${hint}`);
      }
    }
  }

  text(file: string, id: Where, node: Dict, key: string, required: boolean): string | undefined {
    const value = node[key];
    if (value === undefined || value === null) {
      if (required) this.report(file, id, `missing '${key}'`);
      return undefined;
    }
    if (typeof value !== 'string' || value.trim() === '') {
      this.report(file, id, `'${key}' must be a non-empty string`);
      return undefined;
    }
    return value.trim();
  }

  stability(file: string, id: Where, node: Dict): Stability {
    const value = node['stability'];
    if (value === undefined) {
      this.report(file, id, `missing 'stability' (one of: ${STABILITIES.join(', ')})`);
      return 'development';
    }
    if (!includes(STABILITIES, value)) {
      this.report(file, id, `bad stability ${JSON.stringify(value)} (one of: ${STABILITIES.join(', ')})`);
      return 'development';
    }
    return value;
  }
}

function exampleMatches(type: PrimitiveType | 'enum', example: unknown, enumValueType: 'string' | 'int'): boolean {
  const base = type === 'enum' ? enumValueType : type.replace('[]', '');
  const values = type.endsWith('[]') && Array.isArray(example) ? (example as unknown[]) : [example];
  return values.every((value) => {
    switch (base) {
      case 'string':
        return typeof value === 'string';
      case 'int':
        return typeof value === 'number' && Number.isInteger(value);
      case 'double':
        return typeof value === 'number';
      case 'boolean':
        return typeof value === 'boolean';
      default:
        return false;
    }
  });
}

function parseMembers(check: Checker, file: string, attributeId: string, raw: unknown): EnumMember[] | undefined {
  if (!Array.isArray(raw) || raw.length === 0) {
    check.report(file, attributeId, `bad type: 'members' must be a non-empty list of enum members`);
    return undefined;
  }
  const members: EnumMember[] = [];
  const seenIds = new Set<string>();
  const seenValues = new Set<string | number>();
  let valueType: string | undefined;
  raw.forEach((node: unknown, index) => {
    if (!isDict(node)) {
      check.report(file, attributeId, `enum member #${index + 1} must be a mapping`);
      return;
    }
    const memberId = typeof node['id'] === 'string' ? node['id'] : undefined;
    const where = { id: attributeId, context: `enum member '${memberId ?? `#${index + 1}`}'` };
    check.keys(file, where, node, MEMBER_KEYS, 'an enum member');
    if (memberId === undefined) {
      check.report(file, where, `has no 'id'`);
    } else if (!MEMBER_ID_PATTERN.test(memberId)) {
      check.report(file, where, `bad id (lower case, digits and '_')`);
    } else if (seenIds.has(memberId)) {
      check.report(file, where, `duplicate enum member id`);
    }
    const value = node['value'];
    if (value === undefined || value === null || value === '') {
      check.report(file, where, `has no value (every enum member needs 'value')`);
    } else if (typeof value !== 'string' && !(typeof value === 'number' && Number.isInteger(value))) {
      check.report(file, where, `bad type: enum member value must be a string or an integer`);
    } else {
      const thisType = typeof value;
      if (valueType !== undefined && valueType !== thisType) {
        check.report(file, where, `bad type: enum member values mix strings and integers`);
      }
      valueType = thisType;
      if (seenValues.has(value)) check.report(file, where, `duplicate enum value '${String(value)}'`);
      seenValues.add(value);
    }
    const brief = check.text(file, where, node, 'brief', true);
    const stability = check.stability(file, where, node);
    const note = check.text(file, where, node, 'note', false);
    const usableValue = (typeof value === 'string' && value !== '') || (typeof value === 'number' && Number.isInteger(value));
    if (memberId !== undefined && brief !== undefined && usableValue) {
      seenIds.add(memberId);
      members.push({ id: memberId, value, brief, stability, ...(note ? { note } : {}) });
    }
  });
  return members;
}

function parseAttribute(check: Checker, file: string, groupId: string, node: unknown, index: number): AttributeDefinition | undefined {
  if (!isDict(node)) {
    check.report(file, groupId, `attribute #${index + 1} must be a mapping`);
    return undefined;
  }
  if ('ref' in node) {
    check.report(file, groupId, `attribute groups define attributes ('id'); 'ref' belongs in spans, metrics and events`);
    return undefined;
  }
  const id = check.text(file, groupId, node, 'id', true);
  if (id === undefined) return undefined;
  check.keys(file, id, node, ATTRIBUTE_KEYS, 'an attribute');
  if (!NAME_PATTERN.test(id)) {
    check.report(file, id, `bad attribute id (dot-separated lower-case words, e.g. payment.trade_no)`);
  }
  if (!OWN_NAMESPACES.some((ns) => id.startsWith(ns))) {
    check.report(
      file,
      id,
      `defines an attribute outside the ${OWN_NAMESPACES.map((n) => `${n}*`).join(' and ')} namespaces; reference OpenTelemetry attributes with 'ref' instead`,
    );
  }
  const stability = check.stability(file, id, node);
  const brief = check.text(file, id, node, 'brief', true) ?? '';
  const note = check.text(file, id, node, 'note', false);

  let type: AttributeDefinition['type'] | undefined;
  const rawType = node['type'];
  if (rawType === undefined) {
    check.report(file, id, `missing 'type'`);
  } else if (isDict(rawType)) {
    check.keys(file, id, rawType, ['members'], 'an enum type');
    const members = parseMembers(check, file, id, rawType['members']);
    if (members) type = { members };
  } else if (includes(PRIMITIVE_TYPES, rawType)) {
    type = rawType;
  } else {
    check.report(
      file,
      id,
      `bad type ${JSON.stringify(rawType)} (one of: ${PRIMITIVE_TYPES.join(', ')}, or an enum with 'members')`,
    );
  }

  const rawExamples = node['examples'];
  const examples: ExampleValue[] = [];
  if (rawExamples !== undefined) {
    const list = Array.isArray(rawExamples) ? (rawExamples as unknown[]) : [rawExamples];
    for (const example of list) {
      if (type !== undefined) {
        const enumValueType =
          typeof type === 'object' && typeof type.members[0]?.value === 'number' ? 'int' : 'string';
        if (!exampleMatches(typeof type === 'object' ? 'enum' : type, example, enumValueType)) {
          check.report(file, id, `bad type: example ${JSON.stringify(example)} does not match the attribute type`);
          continue;
        }
        if (typeof type === 'object' && !type.members.some((m) => m.value === example)) {
          check.report(file, id, `example ${JSON.stringify(example)} is not one of the enum values`);
          continue;
        }
      }
      if (typeof example === 'string' || typeof example === 'number' || typeof example === 'boolean') {
        examples.push(example);
      }
    }
  }
  if (type === undefined) return undefined;
  return { file, groupId, id, type, stability, brief, examples, ...(note ? { note } : {}) };
}

function parseRequirementLevel(check: Checker, file: string, where: Where, raw: unknown): RequirementLevel {
  if (raw === undefined) return 'recommended';
  if (includes(REQUIREMENT_LEVELS, raw)) return raw;
  if (isDict(raw) && Object.keys(raw).length === 1 && typeof raw['conditionally_required'] === 'string') {
    return { conditionally_required: raw['conditionally_required'] };
  }
  check.report(
    file,
    where,
    `bad requirement_level ${JSON.stringify(raw)} (one of: ${REQUIREMENT_LEVELS.join(', ')}, or { conditionally_required: <condition> })`,
  );
  return 'recommended';
}

function parseReferences(check: Checker, file: string, groupId: string, raw: unknown): AttributeReference[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) {
    check.report(file, groupId, `'attributes' must be a list`);
    return [];
  }
  const refs: AttributeReference[] = [];
  const seen = new Set<string>();
  raw.forEach((node: unknown, index) => {
    if (!isDict(node) || typeof node['ref'] !== 'string') {
      check.report(
        file,
        groupId,
        `attribute #${index + 1}: spans, metrics and events refer to attributes with 'ref: <attribute id>' (define attributes in an attribute_group)`,
      );
      return;
    }
    const ref = node['ref'];
    const where = { id: groupId, context: `ref '${ref}'` };
    check.keys(file, where, node, REFERENCE_KEYS, 'an attribute reference');
    if (seen.has(ref)) check.report(file, where, `referenced twice`);
    seen.add(ref);
    const requirementLevel = parseRequirementLevel(check, file, where, node['requirement_level']);
    const note = check.text(file, where, node, 'note', false);
    refs.push({ ref, requirementLevel, ...(note ? { note } : {}) });
  });
  return refs;
}

function parseGroup(check: Checker, file: string, node: unknown, index: number): Group | undefined {
  if (!isDict(node)) {
    check.report(file, `group #${index + 1}`, `a group must be a mapping`);
    return undefined;
  }
  const id = check.text(file, `group #${index + 1}`, node, 'id', true);
  if (id === undefined) return undefined;
  const type = node['type'];
  if (!includes(GROUP_TYPES, type)) {
    check.report(file, id, `bad group type '${String(type)}' (one of: ${GROUP_TYPES.join(', ')})`);
    return undefined;
  }
  check.keys(file, id, node, GROUP_KEYS[type], `a group of type ${type}`);
  const stability = check.stability(file, id, node);
  const brief = check.text(file, id, node, 'brief', true) ?? '';
  const note = check.text(file, id, node, 'note', false);
  const base = { file, id, stability, brief, ...(note ? { note } : {}) };

  switch (type) {
    case 'attribute_group': {
      const raw = node['attributes'];
      if (!Array.isArray(raw)) {
        check.report(file, id, `'attributes' must be a list of attribute definitions`);
        return undefined;
      }
      const attributes = raw
        .map((attr: unknown, i) => parseAttribute(check, file, id, attr, i))
        .filter((a): a is AttributeDefinition => a !== undefined);
      return { ...base, type, attributes } satisfies AttributeGroup;
    }
    case 'span': {
      const spanName = check.text(file, id, node, 'span_name', true) ?? '';
      if (spanName && !NAME_PATTERN.test(spanName)) check.report(file, id, `bad span_name '${spanName}'`);
      const kind = node['span_kind'];
      if (!includes(SPAN_KINDS, kind)) {
        check.report(file, id, `bad span_kind '${String(kind)}' (one of: ${SPAN_KINDS.join(', ')})`);
      }
      const attributes = parseReferences(check, file, id, node['attributes']);
      return {
        ...base,
        type,
        spanName,
        spanKind: includes(SPAN_KINDS, kind) ? kind : 'internal',
        attributes,
      } satisfies SpanDefinition;
    }
    case 'metric': {
      const metricName = check.text(file, id, node, 'metric_name', true) ?? '';
      if (metricName && !NAME_PATTERN.test(metricName)) check.report(file, id, `bad metric_name '${metricName}'`);
      const instrument = node['instrument'];
      if (!includes(INSTRUMENTS, instrument)) {
        check.report(file, id, `bad instrument '${String(instrument)}' (one of: ${INSTRUMENTS.join(', ')})`);
      }
      const unit = check.text(file, id, node, 'unit', true) ?? '';
      const attributes = parseReferences(check, file, id, node['attributes']);
      return {
        ...base,
        type,
        metricName,
        instrument: includes(INSTRUMENTS, instrument) ? instrument : 'counter',
        unit,
        attributes,
      } satisfies MetricDefinition;
    }
    case 'event': {
      const name = check.text(file, id, node, 'name', true) ?? '';
      if (name && !NAME_PATTERN.test(name)) check.report(file, id, `bad event name '${name}'`);
      const attributes = parseReferences(check, file, id, node['attributes']);
      return { ...base, type, name, attributes } satisfies EventDefinition;
    }
  }
}

function parseFile(check: Checker, source: ModelSource): Group[] {
  let document: unknown;
  try {
    document = parse(source.text, { uniqueKeys: true });
  } catch (error) {
    const detail = error instanceof YAMLParseError ? error.message : String(error);
    check.report(source.file, '(file)', `not valid YAML: ${detail}`);
    return [];
  }
  if (!isDict(document)) {
    check.report(source.file, '(file)', `a model file must be a mapping with a 'groups' list`);
    return [];
  }
  check.keys(source.file, '(file)', document, ['groups'], 'the top level');
  const groups = document['groups'];
  if (!Array.isArray(groups)) {
    check.report(source.file, '(file)', `'groups' must be a list`);
    return [];
  }
  return groups
    .map((group: unknown, index) => parseGroup(check, source.file, group, index))
    .filter((g): g is Group => g !== undefined);
}

/**
 * The OpenTelemetry attribute an id redefines, if any: the same name, or the same name
 * under one of our namespaces (`payment.server.address` restates `server.address`).
 */
function shadowedOpenTelemetryAttribute(id: string, external: ReadonlySet<string>): string | undefined {
  if (external.has(id)) return id;
  const namespace = OWN_NAMESPACES.find((ns) => id.startsWith(ns));
  if (namespace === undefined) return undefined;
  const rest = id.slice(namespace.length);
  return external.has(rest) ? rest : undefined;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length];
}

/** ` (did you mean 'x'?)` for a near miss among the candidates, else an empty string. */
function suggestion(name: string, candidates: Iterable<string>): string {
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of candidates) {
    const distance = editDistance(name, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best === undefined ? '' : ` (did you mean '${best}'?)`;
}

/** Metric dimensions multiply series; each one must say how many values it can take. */
const CARDINALITY_STATEMENT = /cardinality/i;

/** Checks names, references and generated constants across all files. */
function crossCheck(check: Checker, groups: readonly Group[], external: ReadonlySet<string>): Map<string, AttributeDefinition> {
  const groupIds = new Map<string, string>();
  for (const group of groups) {
    const first = groupIds.get(group.id);
    if (first !== undefined) check.report(group.file, group.id, `duplicate group id (first defined in ${first})`);
    else groupIds.set(group.id, group.file);
  }

  const attributes = new Map<string, AttributeDefinition>();
  for (const group of groups) {
    if (group.type !== 'attribute_group') continue;
    for (const attr of group.attributes) {
      const first = attributes.get(attr.id);
      if (first !== undefined) {
        check.report(attr.file, attr.id, `duplicate attribute id (first defined in ${first.file}, group ${first.groupId})`);
        continue;
      }
      const shadowed = shadowedOpenTelemetryAttribute(attr.id, external);
      if (shadowed !== undefined) {
        check.report(
          attr.file,
          attr.id,
          `shadows the OpenTelemetry attribute '${shadowed}'; reference it with 'ref: ${shadowed}' instead of redefining it`,
        );
      }
      attributes.set(attr.id, attr);
    }
  }

  const names = new Map<string, string>();
  const claim = (kind: string, name: string, file: string, id: string): void => {
    if (!name) return;
    const key = `${kind}:${name}`;
    const first = names.get(key);
    if (first !== undefined) check.report(file, id, `duplicate ${kind} '${name}' (first defined by ${first})`);
    else names.set(key, id);
  };

  for (const group of groups) {
    switch (group.type) {
      case 'span':
        claim('span name', group.spanName, group.file, group.id);
        break;
      case 'metric':
        claim('metric name', group.metricName, group.file, group.id);
        break;
      case 'event':
        claim('event name', group.name, group.file, group.id);
        break;
      default:
        continue;
    }
    for (const ref of group.attributes) {
      const own = attributes.get(ref.ref);
      if (own === undefined && !external.has(ref.ref)) {
        check.report(
          group.file,
          group.id,
          `refers to undefined attribute '${ref.ref}', neither in model/*.yaml nor an OpenTelemetry attribute${suggestion(ref.ref, [...attributes.keys(), ...external])}`,
        );
        continue;
      }
      if (group.type === 'metric') {
        const stated = [own?.note ?? '', ref.note ?? ''].some((note) => CARDINALITY_STATEMENT.test(note));
        if (!stated) {
          check.report(
            group.file,
            group.id,
            `metric dimension '${ref.ref}' does not state its cardinality (say so in the attribute's note or the reference's note)`,
          );
        }
      }
    }
  }

  // Two names that collapse to one TypeScript constant would not compile.
  const constants = new Map<string, string>();
  const constant = (name: string, what: string, file: string, id: string): void => {
    const first = constants.get(name);
    if (first !== undefined) check.report(file, id, `constant ${name} for ${what} collides with ${first}`);
    else constants.set(name, what);
  };
  for (const attr of attributes.values()) {
    constant(attributeConstant(attr.id), `attribute '${attr.id}'`, attr.file, attr.id);
    if (typeof attr.type === 'object') {
      for (const member of attr.type.members) {
        constant(enumValueConstant(attr.id, member.id), `'${attr.id}' member '${member.id}'`, attr.file, attr.id);
      }
    }
  }
  for (const group of groups) {
    if (group.type === 'span' && group.spanName) {
      constant(spanNameConstant(group.spanName), `span '${group.spanName}'`, group.file, group.id);
    } else if (group.type === 'metric' && group.metricName) {
      constant(metricConstant(group.metricName), `metric '${group.metricName}'`, group.file, group.id);
    } else if (group.type === 'event' && group.name) {
      constant(eventConstant(group.name), `event '${group.name}'`, group.file, group.id);
    }
  }
  return attributes;
}

/**
 * Validates the model and returns it in typed form.
 * @throws ModelValidationError listing every problem, each with file and id.
 */
export function validateModel(
  sources: readonly ModelSource[],
  externalAttributes: ReadonlySet<string> = openTelemetryAttributeNames(),
): Registry {
  const check = new Checker();
  const groups = sources.flatMap((source) => parseFile(check, source));
  const attributes = crossCheck(check, groups, externalAttributes);
  if (check.problems.length > 0) throw new ModelValidationError(check.problems);
  return {
    attributeGroups: groups.filter((g): g is AttributeGroup => g.type === 'attribute_group'),
    spans: groups.filter((g): g is SpanDefinition => g.type === 'span'),
    metrics: groups.filter((g): g is MetricDefinition => g.type === 'metric'),
    events: groups.filter((g): g is EventDefinition => g.type === 'event'),
    attributes,
    externalAttributes,
  };
}

function main(): void {
  try {
    const registry = validateModel(loadModelSources());
    const count = registry.attributes.size + registry.spans.length + registry.metrics.length + registry.events.length;
    process.stdout.write(`model/*.yaml is valid (${count} definitions)\n`);
  } catch (error) {
    if (error instanceof ModelValidationError) {
      process.stderr.write(`${error.message}\n`);
      process.exitCode = 1;
      return;
    }
    throw error;
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main();
}
