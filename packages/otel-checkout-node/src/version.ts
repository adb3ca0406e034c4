/** Instrumentation scope of every span this package makes. */
export const INSTRUMENTATION_NAME = '@otel-checkout/node';
export const INSTRUMENTATION_VERSION = '0.1.0';
