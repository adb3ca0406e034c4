import type { Attributes } from '@opentelemetry/api';
import { ATTR_CHECKOUT_PAGE_LCP, ATTR_CHECKOUT_PAGE_LOAD_TIME } from '@otel-checkout/semantic-conventions/incubating';

/**
 * Page-ready figures of the checkout page: load time from Navigation Timing and the latest
 * Largest Contentful Paint (buffered, so it is known even when tracing starts late). Both in
 * seconds. Browsers without these APIs simply yield nothing.
 */
export class PageTimings {
  private lcp: number | undefined;
  private observer: PerformanceObserver | undefined;

  start(): void {
    try {
      if (typeof PerformanceObserver !== 'function' || !PerformanceObserver.supportedEntryTypes?.includes('largest-contentful-paint')) return;
      this.observer = new PerformanceObserver((list) => {
        const entries = list.getEntries();
        const last = entries[entries.length - 1];
        if (last !== undefined) this.lcp = last.startTime / 1000;
      });
      this.observer.observe({ type: 'largest-contentful-paint', buffered: true });
    } catch {
      this.observer = undefined;
    }
  }

  attributes(): Attributes {
    const out: Attributes = {};
    try {
      const navigation = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
      if (navigation !== undefined && navigation.loadEventEnd > 0) out[ATTR_CHECKOUT_PAGE_LOAD_TIME] = (navigation.loadEventEnd - navigation.startTime) / 1000;
    } catch {
      // No Navigation Timing here.
    }
    if (this.lcp !== undefined) out[ATTR_CHECKOUT_PAGE_LCP] = this.lcp;
    return out;
  }

  stop(): void {
    this.observer?.disconnect();
    this.observer = undefined;
  }
}
