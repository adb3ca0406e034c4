import type { IncomingMessage } from 'node:http';
import { InstrumentationBase, InstrumentationNodeModuleDefinition, isWrapped } from '@opentelemetry/instrumentation';
import { koaRoute } from '../adapters/koa.js';
import type { KoaContextLike } from '../adapters/koa.js';
import { INSTRUMENTATION_VERSION } from '../version.js';

type CreateContext = (this: unknown, req: IncomingMessage, res: unknown) => KoaContextLike;
interface KoaApplication {
  prototype: { createContext: CreateContext };
}

// Weak: an entry goes with its request, whether or not the response ever closes.
const contextsByRequest = new WeakMap<IncomingMessage, KoaContextLike>();

/**
 * The route template Koa's router matched for a request (`/orders/:id`, prefix included),
 * or undefined when no router matched or the request is not Koa's.
 *
 * Default mode's server span ends on the response's `close` and knows only Node's request;
 * @koa/router records its match on Koa's context (`ctx._matchedRoute`), which nothing links
 * back to the request. instrumentation-koa names the route only by wrapping every router
 * layer in a span of its own (`frameworkSpans: true`); this remembers each request's context
 * instead, one weak map entry per request.
 */
export function koaRouteOf(req: IncomingMessage): string | undefined {
  const ctx = contextsByRequest.get(req);
  return ctx === undefined ? undefined : koaRoute(ctx);
}

/** Remembers Koa's context of each request (Koa 2 and 3, loaded with `require` or `import`) by patching `createContext`. */
export class KoaRouteInstrumentation extends InstrumentationBase {
  constructor() {
    // Created disabled, like the package's other instrumentations: enabled by the start that lists it.
    super('@otel-checkout/node/koa-routes', INSTRUMENTATION_VERSION, { enabled: false });
  }

  protected init(): InstrumentationNodeModuleDefinition[] {
    return [
      new InstrumentationNodeModuleDefinition(
        'koa',
        ['>=2.0.0 <4'],
        (module: unknown) => {
          const application = applicationOf(module);
          if (application === undefined) return module;
          if (isWrapped(application.prototype.createContext)) this._unwrap(application.prototype, 'createContext');
          this._wrap(application.prototype, 'createContext', rememberContext);
          return module;
        },
        (module: unknown) => {
          const application = applicationOf(module);
          if (application !== undefined && isWrapped(application.prototype.createContext)) this._unwrap(application.prototype, 'createContext');
        },
      ),
    ];
  }
}

function rememberContext(original: CreateContext): CreateContext {
  return function createContext(this: unknown, req, res) {
    const ctx = original.call(this, req, res);
    // Naming a span must never cost the request: a context that cannot be remembered is left unnamed.
    if (typeof req === 'object' && req !== null && typeof ctx === 'object' && ctx !== null) contextsByRequest.set(req, ctx);
    return ctx;
  };
}

/** Koa's `Application` class: the module itself (CommonJS) or its default export (ESM). */
function applicationOf(module: unknown): KoaApplication | undefined {
  const exported = (module as { [Symbol.toStringTag]?: unknown })?.[Symbol.toStringTag] === 'Module' ? (module as { default?: unknown }).default : module;
  const prototype = (exported as { prototype?: { createContext?: unknown } } | undefined)?.prototype;
  return typeof prototype?.createContext === 'function' ? (exported as KoaApplication) : undefined;
}
