import type { IncomingHttpHeaders } from 'node:http';
import { diag } from '@opentelemetry/api';
import { isTlsSocket } from '../http/request-line.js';
import type { RequestView } from '../http/request-view.js';
import type { RawResponse } from './response-end.js';

/**
 * Fastify 4 and 5, described structurally (the package never imports fastify). A plugin
 * adds hooks: `onRequest` (before the body is parsed: start the request), `preValidation`
 * (body parsed: read it), `preHandler` (re-enter the request's context, which body parsing
 * loses), `onError` (thrown errors surface here) and the raw response for the end.
 */
export interface FastifyRequestLike {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  body?: unknown;
  routeOptions?: { url?: string };
  routerPath?: string;
  raw?: { socket?: unknown };
}

export interface FastifyReplyLike {
  raw: RawResponse;
  statusCode: number;
}

export type FastifyHookDone = (error?: Error) => void;

export interface FastifyInstanceLike {
  addHook(name: 'onRequest' | 'preValidation' | 'preHandler', hook: (request: FastifyRequestLike, reply: FastifyReplyLike, done: FastifyHookDone) => void): unknown;
  addHook(name: 'onError', hook: (request: FastifyRequestLike, reply: FastifyReplyLike, error: Error, done: FastifyHookDone) => void): unknown;
}

export function fastifyRequestView(request: FastifyRequestLike): RequestView {
  return { method: request.method, url: request.url, headers: request.headers, body: request.body, secure: isTlsSocket(request.raw?.socket) };
}

export function fastifyRoute(request: FastifyRequestLike): string | undefined {
  return request.routeOptions?.url ?? request.routerPath;
}

/** What both Fastify plugins take besides their own options: the routes they apply to. */
export interface FastifyRouteOptions {
  /**
   * The routes the plugin applies to, as Fastify declares them (`/payments/:id`, with any prefix:
   * `/api/v1/payments/:id`); a request of any other route, or of none (a 404), passes through
   * untouched. Default: every route of the instance the plugin is registered on and of its
   * children. For applications that cannot register the plugin in a scope of its own: NestJS
   * declares every controller's routes on the root instance.
   */
  routes?: readonly string[];
}

/**
 * Whether a request is of one of `routes` (see `FastifyRouteOptions`); every request when they
 * are not given. A single string is taken as a list of one route; anything else is said once
 * and ignored (the plugin then applies to every route, as without the option).
 */
export function routeFilter(routes: unknown, plugin: string): (request: FastifyRequestLike) => boolean {
  if (routes === undefined) return () => true;
  const list = typeof routes === 'string' ? [routes] : routes;
  if (!Array.isArray(list) || !list.every((route) => typeof route === 'string')) {
    diag.warn(`@otel-checkout/node: option routes of ${plugin} is not a list of route paths; the plugin applies to every route`);
    return () => true;
  }
  const chosen: ReadonlySet<string> = new Set(list);
  return (request) => {
    const route = fastifyRoute(request);
    return route !== undefined && chosen.has(route);
  };
}

/**
 * A Fastify plugin taking options `O`, in the shape Fastify's `register` expects of a plugin
 * (`FastifyPluginCallback<O>`), described structurally: `register(plugin, options)` infers
 * `O` from it, so the options object is type-checked and its hooks' parameters are typed.
 * The options are not `O | undefined`: `register` requires its options type to be an object
 * type, and an `undefined` in it made TypeScript fall back to "any record" (untyped hooks,
 * wrong options accepted). Fastify passes `{}` when no options are given.
 */
export type FastifyPlugin<O extends object> = (instance: FastifyInstanceLike, options: O, done: (error?: Error) => void) => void;

/**
 * Marks a plugin function so Fastify applies its hooks to the instance it is registered on
 * (not to a new encapsulated child), as the `fastify-plugin` helper does, and gives it the
 * type `register` infers its options from.
 */
export function asFastifyPlugin<O extends object>(plugin: FastifyPlugin<O>, name: string): FastifyPlugin<O> {
  Object.assign(plugin, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: name });
  return plugin;
}
