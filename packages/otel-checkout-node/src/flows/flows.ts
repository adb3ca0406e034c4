import type { Tracer } from '@opentelemetry/api';
import type { HealthCounters } from '../health.js';

/**
 * The seam between the tracing setup / flow API and the cross-redirect machinery (flow
 * tokens, flow store, stalled sweeper). The setup calls `createFlows` once and keeps the
 * result; `payments.returnUrl/notifyUrl/passback` delegate to it.
 */

/** The context of one flow's `payment.create` span, plus what the store needs to know. */
export interface FlowContext {
  traceId: string;
  spanId: string;
  traceFlags: number;
  tradeNo?: string;
  provider?: string;
  method?: string;
}

/** Options for flow tokens, the flow store and the stalled sweeper (see the package README). */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface FlowsOptions {}

export interface FlowDependencies {
  tracer: Tracer;
  health: HealthCounters;
}

export interface Flows {
  /** Appends the flow token to a return URL given to the provider; records "redirect issued". */
  returnUrl(flow: FlowContext, url: string): string;
  /** Appends the flow token to a notify (callback) URL; records "redirect issued". */
  notifyUrl(flow: FlowContext, url: string): string;
  /** A token for the provider's pass-back/metadata field; records "redirect issued". */
  passback(flow: FlowContext): string;
  /** Starts background work (the stalled sweeper) when configured. */
  start(): void;
  /** Stops background work. */
  shutdown(): Promise<void>;
}

export function createFlows(_options: FlowsOptions | undefined, deps: FlowDependencies): Flows {
  const warn = () => deps.health.warnOnce('flows-unconfigured', 'flow tokens are not configured; URLs are returned unchanged');
  return {
    returnUrl: (_flow, url) => (warn(), url),
    notifyUrl: (_flow, url) => (warn(), url),
    passback: () => (warn(), ''),
    start: () => undefined,
    shutdown: () => Promise.resolve(),
  };
}
