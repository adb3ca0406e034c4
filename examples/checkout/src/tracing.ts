import { randomBytes } from 'node:crypto';
import { startCheckoutTracing } from '@otel-checkout/node';
import type { FlowStore, NodeTracingHandle } from '@otel-checkout/node';

export interface BackendTracingOptions {
  /** OTLP/HTTP traces URL. */
  endpoint: string;
  /** Where flows wait for their callback. */
  store: FlowStore;
  /** Seconds from redirect to `payment.callback.stalled`. */
  stalledAfterSeconds: number;
}

/**
 * Tracing for the shop's backend, started once per process. Lean mode (`instrumentHttp:
 * false`): only the payment routes get server spans, which keeps the demo's traces to the
 * payment flow; default mode records the same payment spans inside the server spans it makes
 * for every route.
 */
export function startBackendTracing(options: BackendTracingOptions): NodeTracingHandle {
  return startCheckoutTracing({
    serviceName: 'shop-api',
    serviceVersion: '1.4.0',
    environment: 'demo',
    endpoint: options.endpoint,
    instrumentHttp: false,
    scheduledDelayMillis: 200,
    cohort: { salt: 'demo-rollout', percent: 50 },
    flows: {
      // A real service reads the secret from its secret store and rotates it via `previous`.
      keys: { current: { id: 'demo-1', secret: randomBytes(32).toString('hex') } },
      store: options.store,
      deadlines: options.stalledAfterSeconds,
      sweeper: { intervalMs: 250 },
    },
  });
}
