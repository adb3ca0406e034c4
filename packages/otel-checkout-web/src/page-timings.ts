import type { Attributes } from '@opentelemetry/api';
import { ATTR_CHECKOUT_PAGE_LCP, ATTR_CHECKOUT_PAGE_LOAD_TIME } from '@otel-checkout/semantic-conventions/incubating';

/**
 * Page-ready figures of the checkout page: load time from Navigation Timing and the latest
 * Largest Contentful Paint (buffered, so it is known even when tracing starts late). Both in
 * seconds. Browsers without these APIs simply yield nothing. Returns the current figures
 * and a "stop observing".
 */
export function observePageTimings(): [() => Attributes, () => void] {
  let lcp: number | undefined;
  let observer: PerformanceObserver | undefined;
  try {
    observer = new PerformanceObserver((list) => {
      // The latest entry counts: each one is a larger paint than the one before.
      for (const entry of list.getEntries()) lcp = entry.startTime / 1000;
    });
    observer.observe({ type: 'largest-contentful-paint', buffered: true });
  } catch {
    // No PerformanceObserver, or no LCP entries in this browser.
  }
  const attributes = (): Attributes => {
    const out: Attributes = {};
    try {
      const navigation = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
      if (navigation && navigation.loadEventEnd > 0) out[ATTR_CHECKOUT_PAGE_LOAD_TIME] = (navigation.loadEventEnd - navigation.startTime) / 1000;
    } catch {
      // No Navigation Timing here.
    }
    if (lcp !== undefined) out[ATTR_CHECKOUT_PAGE_LCP] = lcp;
    return out;
  };
  return [attributes, () => observer?.disconnect()];
}
