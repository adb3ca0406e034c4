import { HEALTH_CONFIG_PROBLEMS } from '../health-names.js';
import type { HealthCounters } from '../health.js';
import { hasRedactionProcessor } from '../redaction/redaction-span-processor.js';
import type { NodeTracingOptions } from '../types.js';

/**
 * Options that build the package's own SDK, by where their setting lives once the application
 * runs its own: each group is said in one line, naming the options given and where they belong.
 * `frameworkSpans` and `ignoreIncomingRequest` are said by the check every mode runs.
 */
const GROUPS: readonly { kind: string; options: readonly (keyof NodeTracingOptions)[]; where: string }[] = [
  {
    kind: 'resource',
    options: ['serviceName', 'environment', 'resourceAttributes'],
    where: "the resource is your SDK's (its resource or serviceName, OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES)",
  },
  {
    kind: 'export',
    options: ['endpoint', 'headers', 'protocol', 'exporter', 'maxQueueSize', 'maxExportBatchSize', 'scheduledDelayMillis', 'exportTimeoutMillis'],
    where: "spans are exported by your SDK's span processors and exporter, and its export failures are not counted in health()",
  },
  { kind: 'sampler', options: ['sampler'], where: "your SDK's sampler decides" },
  { kind: 'processors', options: ['spanProcessors'], where: "give them to your SDK's spanProcessors" },
  {
    kind: 'propagator',
    options: ['propagator'],
    where: "the propagator is your SDK's textMapPropagator (with GuardedTraceContextPropagator and GuardedBaggagePropagator, as the README shows)",
  },
  { kind: 'instrumentation', options: ['instrumentHttp', 'fastifyAutoRegister'], where: "the instrumentations are your SDK's" },
];

/**
 * With the application's own SDK ("coexisting" mode) the package builds no SDK, so the options
 * that would shape one have no effect. Each one given is counted in `configProblems` and said
 * once, with where its setting belongs, rather than ignored without a word: above all
 * `redaction`, whose rules (extra `sensitiveKeys`, say) otherwise mask nothing, so that what only
 * they would mask is exported as it is.
 */
export function sayUnusedInCoexisting(options: NodeTracingOptions, health: HealthCounters): void {
  for (const group of GROUPS) {
    const given = group.options.filter((name) => options[name] !== undefined);
    if (given.length === 0) continue;
    health.increment(HEALTH_CONFIG_PROBLEMS, given.length - 1);
    health.rejectOption(
      `coexisting-${group.kind}`,
      `${given.length === 1 ? 'option' : 'options'} ${given.join(', ')} ${given.length === 1 ? 'has' : 'have'} no effect with the application's own OpenTelemetry SDK (coexisting mode): ${group.where}`,
    );
  }
  const redaction = options.redaction;
  if (typeof redaction === 'object' && redaction !== null) {
    health.rejectOption(
      'coexisting-redaction',
      "option redaction has no effect with the application's own OpenTelemetry SDK (coexisting mode): only a RedactionSpanProcessor in that SDK redacts, " +
        'with the rules it was made with. Give these to it: `new RedactionSpanProcessor({ ...rules })` first in its spanProcessors. Until then, ' +
        'what only they would mask (extra sensitiveKeys or sensitiveQueryParameters) is exported unmasked, and their onRedaction is not called',
    );
  } else if (redaction === false && hasRedactionProcessor() === true) {
    health.rejectOption(
      'coexisting-redaction',
      "option redaction: false has no effect with the application's own OpenTelemetry SDK (coexisting mode): the RedactionSpanProcessor in its spanProcessors still redacts",
    );
  }
}
