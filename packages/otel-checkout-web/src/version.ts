/** This package's version, recorded as the instrumentation scope version. */
export const VERSION = '0.1.0';
export const SCOPE_NAME = '@otel-checkout/web';
