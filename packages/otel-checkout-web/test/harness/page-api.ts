import type { Page } from 'playwright-core';
import type { checkout as Checkout, startCheckoutTracing as Start, WebTracingOptions } from '@otel-checkout/web';
import type { cohortOf as CohortOf } from '@otel-checkout/core';

/** What `test/pages/entry.ts` puts on `window` (types for the functions tests pass to `page.evaluate`). */
export interface PageApi {
  startCheckoutTracing: typeof Start;
  checkout: typeof Checkout;
  cohortOf: typeof CohortOf;
  diagnostics: string[];
  unhandled: string[];
}

declare global {
  interface Window {
    otc: PageApi;
    [key: string]: unknown;
  }
}

/** Standard options for test pages: everything goes to the receiver, exports quickly. */
export function tracingOptions(receiverUrl: string, apiOrigin: string, extra: WebTracingOptions = {}): WebTracingOptions {
  return { serviceName: 'shop-web', release: 'web-1.2.3', environment: 'test', endpoint: receiverUrl, propagateTo: [apiOrigin], scheduledDelayMillis: 20, ...extra };
}

/** Exports everything the page queued and waits until the receiver answered. */
export async function flushPage(page: Page): Promise<void> {
  await page.evaluate(() => (window.otcHandle as { flush(): Promise<void> }).flush());
}

/** Starts tracing in `page` with `options` (a plain object: it crosses into the page as JSON). */
export async function startInPage(page: Page, options: WebTracingOptions): Promise<void> {
  await page.evaluate((o) => {
    window.otcHandle = window.otc.startCheckoutTracing(o);
  }, options as Record<string, unknown>);
}
