import { startCheckoutTracing } from '@otel-checkout/web';
import type { WebTracingHandle } from '@otel-checkout/web';

/**
 * The same tracing setup on every shop page. Spans go to the shop's own `/v1/traces`; requests
 * to the shop's own origin (the payment API) carry the flow's `traceparent`.
 */
export function startPageTracing(stableUserId: string | undefined): WebTracingHandle {
  return startCheckoutTracing({
    serviceName: 'shop-web',
    release: '2026.11.3',
    environment: 'demo',
    stableUserId,
    canary: { salt: 'demo-rollout', percent: 50 },
    // Short delays so the demo finishes quickly; the defaults suit production. The watchdog
    // still leaves a loaded machine room: a bank page that loads after it fires is recorded as
    // page_load_failed, and its shopper's scenario then fails its check.
    scheduledDelayMillis: 200,
    redirectWatchdogMillis: 5000,
  });
}
