/**
 * The shape of the registry model after validation: what `model/*.yaml` describes, with
 * every group tagged by the file it came from so that errors and docs can point at it.
 */

export const STABILITIES = ['stable', 'development'] as const;
export type Stability = (typeof STABILITIES)[number];

export const PRIMITIVE_TYPES = [
  'string',
  'int',
  'double',
  'boolean',
  'string[]',
  'int[]',
  'double[]',
  'boolean[]',
] as const;
export type PrimitiveType = (typeof PRIMITIVE_TYPES)[number];

export const GROUP_TYPES = ['attribute_group', 'span', 'metric', 'event'] as const;
export type GroupType = (typeof GROUP_TYPES)[number];

export const SPAN_KINDS = ['internal', 'server', 'client', 'producer', 'consumer'] as const;
export type SpanKind = (typeof SPAN_KINDS)[number];

export const INSTRUMENTS = ['counter', 'updowncounter', 'histogram', 'gauge'] as const;
export type Instrument = (typeof INSTRUMENTS)[number];

export const REQUIREMENT_LEVELS = ['required', 'recommended', 'opt_in'] as const;
export type RequirementLevel =
  | (typeof REQUIREMENT_LEVELS)[number]
  | { readonly conditionally_required: string };

export type ExampleValue = string | number | boolean;

export interface EnumMember {
  readonly id: string;
  readonly value: string | number;
  readonly brief: string;
  readonly stability: Stability;
  readonly note?: string;
}

export interface EnumType {
  readonly members: readonly EnumMember[];
}

export interface AttributeDefinition {
  readonly file: string;
  readonly groupId: string;
  readonly id: string;
  readonly type: PrimitiveType | EnumType;
  readonly stability: Stability;
  readonly brief: string;
  readonly examples: readonly ExampleValue[];
  readonly note?: string;
}

export interface AttributeReference {
  readonly ref: string;
  readonly requirementLevel: RequirementLevel;
  readonly note?: string;
}

interface GroupBase {
  readonly file: string;
  readonly id: string;
  readonly stability: Stability;
  readonly brief: string;
  readonly note?: string;
}

export interface AttributeGroup extends GroupBase {
  readonly type: 'attribute_group';
  readonly attributes: readonly AttributeDefinition[];
}

export interface SpanDefinition extends GroupBase {
  readonly type: 'span';
  readonly spanName: string;
  readonly spanKind: SpanKind;
  readonly attributes: readonly AttributeReference[];
}

export interface MetricDefinition extends GroupBase {
  readonly type: 'metric';
  readonly metricName: string;
  readonly instrument: Instrument;
  readonly unit: string;
  readonly attributes: readonly AttributeReference[];
}

export interface EventDefinition extends GroupBase {
  readonly type: 'event';
  readonly name: string;
  readonly attributes: readonly AttributeReference[];
}

export type Group = AttributeGroup | SpanDefinition | MetricDefinition | EventDefinition;

export interface Registry {
  readonly attributeGroups: readonly AttributeGroup[];
  readonly spans: readonly SpanDefinition[];
  readonly metrics: readonly MetricDefinition[];
  readonly events: readonly EventDefinition[];
  /** Every attribute defined by the model, by id. */
  readonly attributes: ReadonlyMap<string, AttributeDefinition>;
  /** OpenTelemetry attribute names the model may reference without defining them. */
  readonly externalAttributes: ReadonlySet<string>;
}

/** One YAML file of the model: its path (as shown in errors) and its text. */
export interface ModelSource {
  readonly file: string;
  readonly text: string;
}

export function isEnumType(type: AttributeDefinition['type']): type is EnumType {
  return typeof type === 'object';
}
