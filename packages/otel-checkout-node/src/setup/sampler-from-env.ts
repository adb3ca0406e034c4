import { getStringFromEnv } from '@opentelemetry/core';
import { AlwaysOffSampler, AlwaysOnSampler, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import type { Sampler } from '@opentelemetry/sdk-trace-base';
import type { HealthCounters } from '../health.js';
import { describe } from './option-checks.js';

const SAMPLER = 'OTEL_TRACES_SAMPLER';
const SAMPLER_ARG = 'OTEL_TRACES_SAMPLER_ARG';
const NAMES = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;

/**
 * The sampler `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG` name, made as OpenTelemetry's
 * NodeSDK makes it; `undefined` when the variable is unset (the NodeSDK's default then applies:
 * ParentBased(AlwaysOn)). Made here, not by the NodeSDK, so that a mistake is said once and
 * counted in `configProblems`, as a wrong `sampler` option is: the NodeSDK says an unreadable
 * ratio twice, in two contradicting messages, a missing one (which means 1, as the specification
 * has it) as an error, and counts neither.
 */
export function samplerFromEnv(health: HealthCounters): Sampler | undefined {
  const name = getStringFromEnv(SAMPLER)?.trim();
  if (name === undefined) return undefined;
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return new TraceIdRatioBasedSampler(ratioFromEnv(health));
    case 'parentbased_always_on':
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratioFromEnv(health)) });
    default:
      health.rejectOption(SAMPLER, `${SAMPLER}=${describe(name)} is not one of ${NAMES.join(', ')}; using parentbased_always_on`);
      // Given explicitly, so that the NodeSDK does not read the variable and say it again.
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

/** The ratio of `OTEL_TRACES_SAMPLER_ARG`: 1 when unset, as the specification has it. */
function ratioFromEnv(health: HealthCounters): number {
  const raw = getStringFromEnv(SAMPLER_ARG)?.trim();
  if (raw === undefined) return 1;
  const ratio = Number(raw);
  if (Number.isFinite(ratio) && ratio >= 0 && ratio <= 1) return ratio;
  health.rejectOption(SAMPLER_ARG, `${SAMPLER_ARG}=${describe(raw)} is not a probability from 0 to 1; using 1 (every trace sampled)`);
  return 1;
}
