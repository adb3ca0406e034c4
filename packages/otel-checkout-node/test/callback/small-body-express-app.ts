import { createServer } from 'node:http';
import express from 'express';
import { listenOnLoopback } from '@otel-checkout/test-support';
import type { StartedHttpServer } from '@otel-checkout/test-support';
import { expressCallback } from '../../src/index.js';
import type { Flows } from '../../src/index.js';

/**
 * An Express app whose `/notify` route takes JSON bodies of 64 bytes at most, through the
 * callback middleware's `bodyParser`, answers `success`, and answers a parser's refusal with its
 * status and `refused`, as an application's error handler does: a notification the parser
 * refuses (413) before the callback middleware sees its body.
 */
export function listenWithSmallBodyLimit(flows: Flows): Promise<StartedHttpServer> {
  const app = express();
  app.post('/notify', expressCallback({ flows, bodyParser: express.json({ limit: '64b' }) }), (_req, res) => {
    res.send('success');
  });
  app.use(((error: { status?: number }, _req, res, _next) => {
    res.status(error.status ?? 500).send('refused');
  }) as express.ErrorRequestHandler);
  return listenOnLoopback(createServer(app));
}
