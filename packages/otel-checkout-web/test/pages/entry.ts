// The library as a page sees it, bundled from source; tests drive it through `window.otc`.
import { diag, DiagLogLevel } from '@opentelemetry/api';
import type { DiagLogger } from '@opentelemetry/api';
import { cohortOf } from '@otel-checkout/core';
import { checkout, startCheckoutTracing } from '@otel-checkout/web';

const diagnostics: string[] = [];
const logger: DiagLogger = {
  error: (message) => diagnostics.push(`error: ${message}`),
  warn: (message) => diagnostics.push(`warn: ${message}`),
  info: () => {},
  debug: () => {},
  verbose: () => {},
};
diag.setLogger(logger, DiagLogLevel.WARN);

const unhandled: string[] = [];
window.addEventListener('unhandledrejection', (event) => unhandled.push(String(event.reason)));

Object.assign(window, { otc: { startCheckoutTracing, checkout, cohortOf, diagnostics, unhandled } });
