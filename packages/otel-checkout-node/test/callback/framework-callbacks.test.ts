import { createServer } from 'node:http';
import type { Server } from 'node:http';
import assert from 'node:assert/strict';
import { SpanKind, trace } from '@opentelemetry/api';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { httpCallback } from '../../src/index.js';
import type { Flows } from '../../src/index.js';
import { describeCallbackMiddleware } from './callback-suite.js';
import { Harness } from './harness.js';

// The root install's majors; the framework fixtures run the same suite on the others.
describeCallbackMiddleware('Express 5', 'express', () => express);
describeCallbackMiddleware('Fastify 5', 'fastify', () => Fastify);
describeCallbackMiddleware('Koa 3', 'koa', () => Koa);

describe('node:http callback wrapper', () => {
  const harness = new Harness();
  let flows: Flows;
  before(() => harness.install());
  after(() => harness.uninstall());
  beforeEach(() => {
    ({ flows } = harness.flows());
    harness.reset();
  });
  afterEach(() => flows.shutdown());

  it('token in a header; the handler runs inside payment.callback', async () => {
    let active: string | undefined;
    const server: Server = createServer(
      httpCallback((_req, res) => {
        active = trace.getActiveSpan()?.spanContext().spanId;
        res.end('success');
      }, { flows }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    try {
      const flow = harness.createFlow('H-1');
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/notify`;
      assert.equal((await fetch(url, { method: 'POST', headers: { 'x-otc-flow': flows.passback(flow) } })).status, 200);
      const [span] = harness.callbacks();
      assert.equal(span.kind, SpanKind.SERVER);
      assert.equal(span.parentSpanContext?.spanId, flow.spanId);
      assert.equal(span.attributes['payment.callback.correlation'], 'token_header');
      assert.equal(active, span.spanContext().spanId);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
