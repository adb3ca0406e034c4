import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { isTlsSocket } from '../http/request-line.js';
import type { RequestView } from '../http/request-view.js';
import type { RawResponse } from './response-end.js';

/**
 * Koa 2 and 3, described structurally (the package never imports koa). Errors surface as a
 * rejection of `next()`; the response is written after the middleware chain, so the end is
 * observed on `ctx.res`.
 */
export interface KoaContextLike {
  method: string;
  originalUrl?: string;
  url: string;
  headers: IncomingHttpHeaders;
  request: { body?: unknown; rawBody?: string };
  req: IncomingMessage;
  res: RawResponse;
  /** Set by @koa/router. */
  _matchedRoute?: unknown;
}

export type KoaNext = () => Promise<unknown>;

export function koaRequestView(ctx: KoaContextLike): RequestView {
  const view: { method: string; url: string; headers: IncomingHttpHeaders; secure: boolean; body?: unknown; rawBody?: string } = {
    method: ctx.method,
    url: ctx.originalUrl ?? ctx.url,
    headers: ctx.headers,
    secure: isTlsSocket(ctx.req.socket),
  };
  if (ctx.request.body !== undefined) view.body = ctx.request.body;
  if (typeof ctx.request.rawBody === 'string') view.rawBody = ctx.request.rawBody;
  return view;
}

export function koaRoute(ctx: KoaContextLike): string | undefined {
  return typeof ctx._matchedRoute === 'string' ? ctx._matchedRoute : undefined;
}
