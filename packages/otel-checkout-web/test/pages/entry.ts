// The library as a page sees it, bundled from source; tests drive it through `window.otc`.
import { diag, DiagLogLevel } from '@opentelemetry/api';
import type { DiagLogger } from '@opentelemetry/api';
import { cohortOf } from '@otel-checkout/core';
import { checkout, startCheckoutTracing } from '@otel-checkout/web';

const diagnostics: string[] = [];
// Arguments are kept as a console logger would print them, so a stray `undefined` shows.
const line = (level: string, message: string, args: unknown[]): string => [`${level}: ${message}`, ...args.map(String)].join(' ');
const logger: DiagLogger = {
  error: (message, ...args) => diagnostics.push(line('error', message, args)),
  warn: (message, ...args) => diagnostics.push(line('warn', message, args)),
  info: () => {},
  debug: () => {},
  verbose: () => {},
};
diag.setLogger(logger, DiagLogLevel.WARN);

const unhandled: string[] = [];
window.addEventListener('unhandledrejection', (event) => unhandled.push(String(event.reason)));

Object.assign(window, { otc: { startCheckoutTracing, checkout, cohortOf, diagnostics, unhandled } });
