import { diag } from '@opentelemetry/api';
import type { TextMapPropagator } from '@opentelemetry/api';
import { CompositePropagator, getStringListFromEnv } from '@opentelemetry/core';
import type { HealthCounters } from '../health.js';
import { HEALTH_CONFIG_PROBLEMS } from '../health-names.js';
import type { BaggageLimits } from '../propagation/baggage-filter.js';
import { GuardedBaggagePropagator } from '../propagation/guarded-baggage-propagator.js';
import { GuardedTraceContextPropagator } from '../propagation/guarded-trace-context-propagator.js';
import { describe } from './option-checks.js';

const VARIABLE = 'OTEL_PROPAGATORS';
const W3C = ['tracecontext', 'baggage'] as const;
type W3cName = (typeof W3C)[number];

/**
 * The propagator of the package's own SDK when no `propagator` option is given: `OTEL_PROPAGATORS`
 * as OpenTelemetry's NodeSDK reads it, with the guarded W3C propagators in place of the plain ones.
 *
 * - unset: guarded tracecontext + baggage;
 * - `none` (anywhere in the list): `null`, no propagator at all, said once (not a mistake, so not
 *   counted): no trace context is read from requests or sent on calls;
 * - `tracecontext` and/or `baggage`: those, guarded, in the order given;
 * - any other name (`b3`, `b3multi`, `jaeger`, `xray`): not made, said once and counted per name.
 *   The package's propagators check what untrusted clients send (malformed and oversize headers,
 *   card numbers and bearer tokens in tracestate, baggage outside the allow-list) before anything
 *   enters the context and travels on to payment providers; the NodeSDK's B3 and Jaeger
 *   propagators check none of it. The W3C names of the list still apply; with none among them,
 *   the guarded pair does, as the browser package propagates W3C trace context. An application
 *   that needs B3 gives its propagator as the `propagator` option.
 */
export function propagatorFromEnv(baggageLimits: BaggageLimits, health: HealthCounters): TextMapPropagator | null {
  const names = [...new Set(getStringListFromEnv(VARIABLE) ?? [])];
  if (names.includes('none')) {
    diag.warn(`@otel-checkout/node: ${VARIABLE} is "none": no trace context is read from incoming requests or sent with outgoing calls`);
    return null;
  }
  const unsupported = names.filter((name) => !(W3C as readonly string[]).includes(name));
  if (unsupported.length > 0) {
    health.increment(HEALTH_CONFIG_PROBLEMS, unsupported.length - 1);
    const used = names.length > unsupported.length ? names.filter((name) => !unsupported.includes(name)).join(',') : 'tracecontext,baggage';
    health.rejectOption(
      VARIABLE,
      `${VARIABLE} names ${unsupported.map(describe).join(', ')}, which the package does not make: it propagates W3C trace context and baggage only, ` +
        'through guarded propagators that check what untrusted clients send before it reaches the context and outgoing calls; ' +
        `using ${used} (give another propagator as the propagator option)`,
    );
  }
  const wanted = names.filter((name): name is W3cName => (W3C as readonly string[]).includes(name));
  const made = (wanted.length > 0 ? wanted : W3C).map((name) =>
    name === 'tracecontext' ? new GuardedTraceContextPropagator(health) : new GuardedBaggagePropagator(baggageLimits, health),
  );
  return made.length === 1 ? made[0] : new CompositePropagator({ propagators: made });
}
