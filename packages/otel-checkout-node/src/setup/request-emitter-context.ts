import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { context } from '@opentelemetry/api';
import type { Context } from '@opentelemetry/api';
import { EmitPatch } from './emit-patch.js';
import type { Emit, EmitterPrototype } from './emit-patch.js';

const REQUEST_CONTEXT = Symbol('otel-checkout.requestContext');

interface BoundEmitter {
  [REQUEST_CONTEXT]?: Context;
}

let patches: EmitPatch[] = [];

/**
 * Events of a server's request and response (`data`, `end`, `finish`, `close`...) come from
 * the connection's socket, outside the request's context, so without help a body read with
 * `req.on('end', ...)`, and everything an Express or Koa handler does after its body parser,
 * would leave the request's trace. `bindRequestEmitters` makes every event of one request
 * and its response run in the request's context.
 *
 * It is done on the prototypes of `IncomingMessage` and `ServerResponse` (shared by `http`
 * and `https`), checked per event, rather than with the context manager's `bind`, which
 * patches eight methods onto each emitter and wraps every listener: on an Express payment
 * route that alone cost about a sixth of the whole request's CPU.
 */
export function enableRequestEmitterContext(): void {
  if (patches.length > 0) return;
  for (const prototype of [http.IncomingMessage.prototype, http.ServerResponse.prototype] as unknown as EmitterPrototype[]) {
    patches.push(EmitPatch.install(prototype, emitInRequestContext));
  }
}

/** Restores the prototypes (shutdown). Requests bound earlier keep their context until they end. */
export function disableRequestEmitterContext(): void {
  patches = patches.filter((patch) => !patch.restore());
}

/** Runs every later event of `req` and `res` in `requestContext`. */
export function bindRequestEmitters(req: IncomingMessage, res: ServerResponse, requestContext: Context): void {
  (req as BoundEmitter)[REQUEST_CONTEXT] = requestContext;
  (res as BoundEmitter)[REQUEST_CONTEXT] = requestContext;
}

/** The context bound to a request by `bindRequestEmitters`, if any: the request is traced (or ignored) already. */
export function boundRequestContext(req: IncomingMessage): Context | undefined {
  return (req as BoundEmitter)[REQUEST_CONTEXT];
}

function emitInRequestContext(original: Emit): Emit {
  return function emitInRequestContext(this: unknown, event: string | symbol, ...args: unknown[]): boolean {
    const requestContext = (this as BoundEmitter)[REQUEST_CONTEXT];
    if (requestContext === undefined) return original.call(this, event, ...args);
    return context.with(requestContext, original, this, event, ...args);
  };
}
