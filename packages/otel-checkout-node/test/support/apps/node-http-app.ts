import { createServer } from 'node:http';
import type { IncomingMessage } from 'node:http';
import { listenOnLoopback } from '@otel-checkout/test-support';
import { httpPayments } from '../../../src/index.js';
import type { AppFactory } from '../payment-middleware-suite.js';
import { AmountRefusedError } from '../payment-scenario.js';

async function readJson(req: IncomingMessage): Promise<unknown> {
  let raw = '';
  for await (const chunk of req) raw += String(chunk);
  return raw ? JSON.parse(raw) : undefined;
}

/** The scenario app on plain node:http (no parsed body: the extractor sees headers and URL only). */
export const nodeHttpApp: AppFactory = async (routes, options) => {
  const payment = httpPayments(async (req, res) => {
    const body = await readJson(req);
    try {
      if (req.url === '/pay/create') {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify(await routes.createPayment(body)));
      } else if (req.url === '/pay/stream') {
        res.setHeader('content-type', 'text/plain');
        routes.streamPayment().pipe(res);
      } else if (req.url?.startsWith('/pay/fail')) {
        routes.failPayment();
      } else if (req.url?.startsWith('/pay/refuse')) {
        routes.refusePayment();
      } else {
        res.statusCode = 400;
        res.end('{"error":"invalid"}');
      }
    } catch (error) {
      res.statusCode = error instanceof AmountRefusedError ? error.status : 500;
      res.end('{"error":"failed"}');
      throw error;
    }
  }, options);
  // The app handles its handler's rejections (after answering 500), as a node:http app must.
  return listenOnLoopback(createServer((req, res) => void payment(req, res).catch(() => undefined)));
};
