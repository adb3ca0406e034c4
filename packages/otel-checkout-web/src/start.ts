import { diag } from '@opentelemetry/api';
import { checkout, setRuntime } from './checkout.js';
import { resolveOptions } from './options.js';
import { warn } from './safely.js';
import type { Runtime } from './runtime.js';
import { createRuntime } from './runtime.js';
import { newHealthCounters } from './health.js';
import type { WebTracingHandle, WebTracingOptions } from './types.js';

let handle: WebTracingHandle | undefined;

/**
 * Starts browser tracing of checkout flows. Calling it again while started warns and returns
 * the same handle. Never throws: a setup that fails leaves the page untraced and says why
 * once through `diag`.
 */
export function startCheckoutTracing(options?: WebTracingOptions): WebTracingHandle {
  // `handle` is the running setup's handle exactly while one runs (`shutdown` clears both).
  if (handle !== undefined) {
    warn('startCheckoutTracing called twice; keeping the first setup');
    return handle;
  }
  let runtime: Runtime | undefined;
  try {
    runtime = createRuntime(resolveOptions(options));
  } catch {
    // Not the error: it may quote an option (a collector header holds an API key).
    diag.error('@otel-checkout/web: tracing could not start');
  }
  setRuntime(runtime);
  const created: WebTracingHandle = {
    checkout,
    health: () => runtime?.health() ?? newHealthCounters(),
    flush: () => runtime?.flush() ?? Promise.resolve(),
    shutdown: async () => {
      if (handle === created) {
        handle = undefined;
        setRuntime(undefined);
      }
      await runtime?.shutdown().catch(() => undefined);
    },
  };
  handle = runtime && created;
  return created;
}
