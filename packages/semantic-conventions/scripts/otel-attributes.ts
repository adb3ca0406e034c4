/**
 * The attribute names OpenTelemetry already defines, taken from the installed
 * `@opentelemetry/semantic-conventions` package (stable and incubating entry points), so
 * the validator can reject a `payment.*`/`checkout.*` name that shadows one and accept
 * references to them.
 */
import * as otelStable from '@opentelemetry/semantic-conventions';
import * as otelIncubating from '@opentelemetry/semantic-conventions/incubating';

function attributeNames(entryPoint: Record<string, unknown>): string[] {
  return Object.entries(entryPoint)
    .filter((entry): entry is [string, string] => entry[0].startsWith('ATTR_') && typeof entry[1] === 'string')
    .map(([, name]) => name);
}

let cached: ReadonlySet<string> | undefined;

export function openTelemetryAttributeNames(): ReadonlySet<string> {
  cached ??= new Set([...attributeNames(otelStable), ...attributeNames(otelIncubating)]);
  return cached;
}
