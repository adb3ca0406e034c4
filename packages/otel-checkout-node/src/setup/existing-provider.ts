import { ProxyTracerProvider, trace } from '@opentelemetry/api';

/**
 * True when an application already registered its own global TracerProvider (its own
 * OpenTelemetry SDK). The API hands out a proxy whose delegate is a shared no-op provider
 * until something registers; a fresh proxy exposes that same no-op instance to compare with.
 */
export function hasRegisteredTracerProvider(): boolean {
  const provider = trace.getTracerProvider();
  if (!(provider instanceof ProxyTracerProvider)) return true;
  return provider.getDelegate() !== new ProxyTracerProvider().getDelegate();
}
