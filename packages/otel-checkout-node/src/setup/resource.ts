import type { Attributes } from '@opentelemetry/api';
import { envDetector, resourceFromAttributes, detectResources } from '@opentelemetry/resources';
import type { Resource } from '@opentelemetry/resources';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { NodeTracingOptions } from '../types.js';

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
export function buildResource(options: NodeTracingOptions): Resource {
  const fromEnv = detectResources({ detectors: [envDetector] });
  const explicit: Attributes = { ...(options.resourceAttributes ?? {}) };
  if (options.serviceName !== undefined) explicit[ATTR_SERVICE_NAME] = options.serviceName;
  if (options.serviceVersion !== undefined) explicit[ATTR_SERVICE_VERSION] = options.serviceVersion;
  if (options.environment !== undefined) explicit[ATTR_DEPLOYMENT_ENVIRONMENT_NAME] = options.environment;
  const merged = fromEnv.merge(resourceFromAttributes(explicit));
  if (merged.attributes[ATTR_SERVICE_NAME] === undefined) {
    return merged.merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: DEFAULT_SERVICE_NAME }));
  }
  return merged;
}

/** `service.version` of a resource, when it has one (the default release). */
export function serviceVersionOf(resource: Resource): string | undefined {
  const version = resource.attributes[ATTR_SERVICE_VERSION];
  return typeof version === 'string' ? version : undefined;
}
