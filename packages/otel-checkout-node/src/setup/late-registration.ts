import { trace } from '@opentelemetry/api';
import type { TracerProvider } from '@opentelemetry/api';
import type { HealthCounters } from '../health.js';

const MESSAGE =
  'an OpenTelemetry SDK started after startCheckoutTracing could not register its TracerProvider ' +
  "(OpenTelemetry's \"Attempted duplicate registration\" error): its sampler, resource, span processors and exporter are unused, " +
  "and spans go through the package's own SDK. Start the application's SDK first (sdk.start() before startCheckoutTracing()): " +
  'the package then adds its spans to it (coexisting mode)';

type SetGlobalTracerProvider = (provider: TracerProvider) => boolean;

/**
 * Started before the application's own SDK, the package registers its provider first, and the
 * application's registration then fails: OpenTelemetry logs "Attempted duplicate registration"
 * and the application's SDK (its sampler, resource, exporter) is silently unused. Nothing else
 * marks it, so the registration itself is watched: `setGlobalTracerProvider` of the API's `trace`
 * object, wrapped on that object only (its prototype untouched), until the returned function
 * takes the wrapper off. A failed registration is said once and counted in `configProblems`.
 * An application that loads another copy of `@opentelemetry/api` has another `trace` object,
 * which this does not see.
 */
export function watchLateRegistration(health: HealthCounters): () => void {
  const api = trace as unknown as { setGlobalTracerProvider: SetGlobalTracerProvider };
  const original = api.setGlobalTracerProvider;
  const watching = function (this: unknown, provider: TracerProvider): boolean {
    const registered = original.call(this, provider);
    if (!registered) health.rejectOption('late-sdk', MESSAGE);
    return registered;
  };
  Object.defineProperty(api, 'setGlobalTracerProvider', { value: watching, configurable: true, writable: true, enumerable: false });
  return () => {
    // Only its own wrapper: one another library put on top stays (and calls through this one).
    if (api.setGlobalTracerProvider === watching) delete (api as Partial<typeof api>).setGlobalTracerProvider;
  };
}
