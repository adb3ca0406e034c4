import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ExpressRequestLike } from '../adapters/express.js';
import type { FastifyRequestLike } from '../adapters/fastify.js';
import type { KoaContextLike } from '../adapters/koa.js';
import { readBoundedBody } from '../http/read-bounded-body.js';
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

/** A verify request's body is `{"token": "..."}`: about a hundred bytes. More is not read. */
const MAX_VERIFY_BODY_BYTES = 4096;

/**
 * `node:http` handler: the token from the query, else from a JSON body `{"token": "..."}`
 * (read up to 4 KiB; `node:http` has no body parser, so the handler reads the body itself).
 */
export function httpVerifyToken(options: VerifyTokenOptions = {}) {
  return function otelCheckoutVerifyToken(req: IncomingMessage, res: ServerResponse): void {
    const url = req.url ?? '/';
    const flows = options.flows ?? runtime().flows;
    if (req.method === 'GET' || req.method === 'HEAD' || tokenOfVerifyRequest(url, undefined, flows.tokenParam) !== undefined) {
      send(res, answerFor(url, undefined, options));
      return;
    }
    readBoundedBody(req, MAX_VERIFY_BODY_BYTES)
      .then((body) => {
        // What was not read (a body over the bound) is discarded: the answer does not need it.
        req.resume();
        let answer: VerifyTokenAnswer;
        try {
          answer = answerFor(url, jsonObject(body), options);
        } catch {
          answer = verifyReturnToken(undefined, options);
        }
        send(res, answer);
      })
      // The response could not be written (the client left, or something answered first): an
      // unhandled rejection here would end the whole server.
      .catch(() => undefined);
  };
}

/** The body as a JSON value, when it is JSON; undefined otherwise (then the token is missing). */
function jsonObject(body: Buffer | undefined): unknown {
  if (body === undefined || body.length === 0) return undefined;
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return undefined;
  }
}
