import type { Attributes } from '@opentelemetry/api';
import { getStringFromEnv } from '@opentelemetry/core';
import { envDetector, resourceFromAttributes, detectResources } from '@opentelemetry/resources';
import type { Resource } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import { createRedactor } from '@otel-checkout/core';
import type { HealthCounters } from '../health.js';
import { HEALTH_REDACTIONS } from '../health-names.js';
import type { NodeTracingOptions } from '../types.js';
import { withVariablesHidden } from './otlp-env.js';

// `deployment.environment.name` is an incubating OpenTelemetry attribute; OpenTelemetry asks
// libraries to copy incubating names rather than depend on the incubating entry point.
const ATTR_DEPLOYMENT_ENVIRONMENT_NAME = 'deployment.environment.name';
const DEFAULT_SERVICE_NAME = 'unknown_service:node';

/**
 * A deliberately small resource: service name, version and environment, plus whatever
 * `OTEL_SERVICE_NAME` / `OTEL_RESOURCE_ATTRIBUTES` say. No host/process/cloud detectors: their
 * dozen attributes would ride on every export and nobody filters payments by them.
 * Explicit options win over the environment.
 */
export function buildResource(options: NodeTracingOptions, health?: HealthCounters): Resource {
  const malformed = malformedResourceEntry();
  if (malformed !== undefined && health !== undefined) sayMalformed(malformed, health);
  // A malformed variable is ignored whole anyway, and the environment detector would log the
  // entry it could not read, secret or not, at debug level: it does not get to see it.
  const fromEnv = withVariablesHidden(malformed === undefined ? [] : [RESOURCE_VARIABLE], () => detectResources({ detectors: [envDetector] }));
  const explicit: Attributes = { ...(options.resourceAttributes ?? {}) };
  if (options.serviceName !== undefined) explicit[ATTR_SERVICE_NAME] = options.serviceName;
  if (options.serviceVersion !== undefined) explicit[ATTR_SERVICE_VERSION] = options.serviceVersion;
  if (options.environment !== undefined) explicit[ATTR_DEPLOYMENT_ENVIRONMENT_NAME] = options.environment;
  let merged = fromEnv.merge(resourceFromAttributes(explicit));
  if (merged.attributes[ATTR_SERVICE_NAME] === undefined) {
    merged = merged.merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: DEFAULT_SERVICE_NAME }));
  }
  return redactedResource(merged, options.redaction, health);
}

const RESOURCE_VARIABLE = 'OTEL_RESOURCE_ATTRIBUTES';
/** The longest key or value OpenTelemetry's environment detector takes. */
const MAX_RESOURCE_TEXT = 255;

/**
 * OpenTelemetry's environment detector discards the whole of `OTEL_RESOURCE_ATTRIBUTES` when one
 * entry is malformed, as the specification asks, but says so only at debug level: the service
 * then runs as `unknown_service:node` with none of its attributes, unexplained. The detector's
 * rules are applied here to find the first such entry, which is said once (by its position: values
 * are not logged) and counted in `configProblems`.
 */
function malformedResourceEntry(): { position: number; entries: number } | undefined {
  const raw = getStringFromEnv(RESOURCE_VARIABLE);
  if (raw === undefined) return undefined;
  const entries = raw.split(',').filter((entry) => entry.trim() !== '');
  const bad = entries.findIndex((entry) => !isResourceEntry(entry));
  return bad < 0 ? undefined : { position: bad + 1, entries: entries.length };
}

function sayMalformed(malformed: { position: number; entries: number }, health: HealthCounters): void {
  health.rejectOption(
    RESOURCE_VARIABLE,
    `${RESOURCE_VARIABLE}: entry ${malformed.position} of ${malformed.entries} is not key=value (a key and a value of at most ${MAX_RESOURCE_TEXT} characters each, ` +
      "',' and '=' in them percent-encoded; not logged); the whole variable is ignored, as the OpenTelemetry specification asks",
  );
}

function isResourceEntry(entry: string): boolean {
  const parts = entry.split('=');
  if (parts.length !== 2 || parts[0].trim() === '') return false;
  try {
    return parts.every((part) => decodeURIComponent(part.trim()).length <= MAX_RESOURCE_TEXT);
  } catch {
    return false;
  }
}

/**
 * The resource rides on every export request, and no span processor sees it: a secret given in
 * `OTEL_RESOURCE_ATTRIBUTES` or `resourceAttributes` (a deployment tool that copies environment
 * variables or annotations over) would leave the process as it was given. So its attributes go
 * through the same redaction rules as span attributes, once, here.
 */
function redactedResource(resource: Resource, redaction: NodeTracingOptions['redaction'], health: HealthCounters | undefined): Resource {
  if (redaction === false) return resource;
  const attributes: Attributes = { ...resource.attributes };
  const count = createRedactor(typeof redaction === 'object' && redaction !== null ? redaction : {}).redactAttributes(attributes);
  if (count === 0) return resource;
  health?.increment(HEALTH_REDACTIONS, count);
  return resourceFromAttributes(attributes, resource.schemaUrl === undefined ? undefined : { schemaUrl: resource.schemaUrl });
}

/** `service.version` of a resource, when it has one (the default release). */
export function serviceVersionOf(resource: Resource): string | undefined {
  const version = resource.attributes[ATTR_SERVICE_VERSION];
  return typeof version === 'string' ? version : undefined;
}
