/* eslint-disable @typescript-eslint/no-explicit-any -- Express is loaded at run time (from argv[2]'s install), so it is untyped here */
// An Express application whose own OpenTelemetry SDK runs instrumentation-express but no HTTP
// instrumentation, with the payment middleware mounted as the README shows it. Run as a child
// process: its global SDK must not mix with other tests. argv[2]: a file whose directory
// resolves the `express` to use. Prints the spans of one payment request.
import { createRequire } from 'node:module';
import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import { ExpressInstrumentation } from '@opentelemetry/instrumentation-express';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type * as CheckoutNode from '../../src/index.js';

async function main(): Promise<void> {
  const node = createRequire(__filename)('../../src/index.ts') as typeof CheckoutNode;
  const exporter = new InMemorySpanExporter();
  const sdk = new NodeSDK({
    spanProcessors: [new node.RedactionSpanProcessor(), new SimpleSpanProcessor(exporter)],
    instrumentations: [new ExpressInstrumentation()],
    autoDetectResources: false,
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  const handle = node.startCheckoutTracing();
  const express = createRequire(process.argv[2])('express');
  const app = express();
  app.use(express.json());
  app.use('/pay', node.expressPayments({ extract: () => ({ provider: 'acme' }) }));
  app.post('/pay/create', (_req: any, res: any) => res.json({ ok: true }));
  const server = await new Promise<any>((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/pay/create`;
  const response = await context.with(suppressTracing(ROOT_CONTEXT), () =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }),
  );
  await response.text();
  await new Promise((resolve) => server.close(resolve));
  process.stdout.write(
    JSON.stringify({
      mode: handle.mode,
      express: (createRequire(process.argv[2])('express/package.json') as { version: string }).version,
      spans: exporter.getFinishedSpans().map((span) => ({ name: span.name, kind: span.kind, route: span.attributes['http.route'], scope: span.instrumentationScope.name })),
    }),
  );
  await sdk.shutdown().catch(() => undefined);
}

void main();
