import type { IncomingMessage, ServerResponse } from 'node:http';
import { isTlsSocket } from '../http/request-line.js';
import type { RequestView } from '../http/request-view.js';

/**
 * Plain `node:http`: the handler is wrapped; errors surface as a synchronous throw or a
 * rejected promise from the handler. There is no parsed body.
 */
export type NodeHttpHandler = (req: IncomingMessage, res: ServerResponse) => unknown;

export function nodeHttpRequestView(req: IncomingMessage): RequestView {
  return { method: req.method ?? 'GET', url: req.url ?? '/', headers: req.headers, secure: isTlsSocket(req.socket) };
}
