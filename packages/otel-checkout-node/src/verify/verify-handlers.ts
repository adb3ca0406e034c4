import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExpressRequestLike } from '../adapters/express.js';
import type { FastifyRequestLike } from '../adapters/fastify.js';
import type { KoaContextLike } from '../adapters/koa.js';
import { runtime } from '../runtime.js';
import { tokenOfVerifyRequest, verifyReturnToken } from './verify-token.js';
import type { VerifyTokenAnswer, VerifyTokenOptions } from './verify-token.js';

/**
 * Handlers for a route such as `GET /checkout/verify-token?otc_flow=<token>` (or a POST with
 * `{"token": "..."}`): they answer `{"valid":true,"traceparent":"00-..."}` or
 * `{"valid":false,"reason":"expired"}` with status 200 and `Cache-Control: no-store`.
 */

const HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' } as const;

function answerFor(url: string, body: unknown, options: VerifyTokenOptions): VerifyTokenAnswer {
  const flows = options.flows ?? runtime().flows;
  return verifyReturnToken(tokenOfVerifyRequest(url, body, flows.tokenParam), { flows });
}

function send(res: ServerResponse, answer: VerifyTokenAnswer): void {
  res.writeHead(200, HEADERS);
  res.end(JSON.stringify(answer));
}

/** Express 4/5 route handler: `app.get('/checkout/verify-token', expressVerifyToken())`. */
export function expressVerifyToken(options: VerifyTokenOptions = {}) {
  return function otelCheckoutVerifyToken(req: ExpressRequestLike, res: ServerResponse): void {
    send(res, answerFor(req.originalUrl ?? req.url, req.body, options));
  };
}

/** Fastify 4/5 route handler: `app.get('/checkout/verify-token', fastifyVerifyToken())`. */
export function fastifyVerifyToken(options: VerifyTokenOptions = {}) {
  return function otelCheckoutVerifyToken(
    request: FastifyRequestLike,
    reply: { header(name: string, value: string): unknown; send(payload: unknown): unknown },
  ): void {
    const answer = answerFor(request.url, request.body, options);
    for (const [name, value] of Object.entries(HEADERS)) reply.header(name, value);
    reply.send(JSON.stringify(answer));
  };
}

/** Koa 2/3 middleware answering every request it sees: mount it on the verify route only. */
export function koaVerifyToken(options: VerifyTokenOptions = {}) {
  return function otelCheckoutVerifyToken(
    ctx: KoaContextLike & { status: number; body: unknown; set(name: string, value: string): void },
  ): Promise<void> {
    const answer = answerFor(ctx.originalUrl ?? ctx.url, ctx.request.body, options);
    ctx.status = 200;
    for (const [name, value] of Object.entries(HEADERS)) ctx.set(name, value);
    ctx.body = JSON.stringify(answer);
    return Promise.resolve();
  };
}

/** `node:http` handler (reads the token from the query only). */
export function httpVerifyToken(options: VerifyTokenOptions = {}) {
  return function otelCheckoutVerifyToken(req: IncomingMessage, res: ServerResponse): void {
    send(res, answerFor(req.url ?? '/', undefined, options));
  };
}
