import type { IncomingHttpHeaders } from 'node:http';
import { isTlsSocket } from '../http/request-line.js';
import type { RequestView } from '../http/request-view.js';
import type { RawResponse } from './response-end.js';

/**
 * Express 4 and 5, described structurally (the package never imports express): what the
 * middleware reads from `req` and `res`. Errors surface to error-handling middleware
 * (four arguments) registered after the routes.
 */
export interface ExpressRequestLike {
  method: string;
  url: string;
  originalUrl?: string;
  baseUrl?: string;
  headers: IncomingHttpHeaders;
  body?: unknown;
  route?: { path?: unknown };
  socket?: unknown;
}

export type ExpressResponseLike = RawResponse;
export type ExpressNext = (error?: unknown) => void;

export function expressRequestView(req: ExpressRequestLike): RequestView {
  return { method: req.method, url: req.originalUrl ?? req.url, headers: req.headers, body: req.body, secure: isTlsSocket(req.socket) };
}

/** The route template once routing has matched (`/pay/:id`), including the router's mount path. */
export function expressRoute(req: ExpressRequestLike): string | undefined {
  const path = req.route?.path;
  if (typeof path !== 'string') return undefined;
  return `${req.baseUrl ?? ''}${path}` || '/';
}
