/* eslint-disable @typescript-eslint/no-explicit-any -- the framework is loaded at run time from the fixture's own install, so it is untyped here */
import { createServer } from 'node:http';
import { listenOnLoopback } from '@otel-checkout/test-support';
import { expressPayments } from '../../../src/index.js';
import type { AppFactory } from '../payment-middleware-suite.js';

/** The scenario app on Express (4 or 5: `load` returns the framework module the fixture installed). */
export function expressApp(load: () => any): AppFactory {
  return async (routes, options) => {
    const express = load();
    const app = express();
    app.use(express.json());
    const pay = expressPayments(options);
    app.use('/pay', pay);
    app.post('/pay/create', async (req: any, res: any, next: any) => {
      try {
        res.json(await routes.createPayment(req.body));
      } catch (error) {
        next(error);
      }
    });
    app.post('/pay/fail', (_req: any, _res: any, next: any) => {
      try {
        routes.failPayment();
      } catch (error) {
        next(error);
      }
    });
    app.post('/pay/refuse', (_req: any, _res: any, next: any) => {
      try {
        routes.refusePayment();
      } catch (error) {
        next(error);
      }
    });
    app.post('/pay/invalid', (_req: any, res: any) => res.status(400).json({ error: 'invalid' }));
    app.post('/pay/stream', (_req: any, res: any) => routes.streamPayment().pipe(res.type('text/plain')));
    app.use(pay.errors);
    // Answers an error with its own 4xx status, as applications do with validation errors.
    app.use((error: any, _req: any, res: any, _next: any) => res.status(error?.status >= 400 && error.status < 500 ? error.status : 500).json({ error: 'failed' }));
    return listenOnLoopback(createServer(app));
  };
}

/** A span only @opentelemetry/instrumentation-express makes. */
export const expressInstrumentationSpan = (span: { attributes: Record<string, unknown> }): boolean => 'express.type' in span.attributes;
