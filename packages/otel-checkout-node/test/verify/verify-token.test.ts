import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import {
  expressVerifyToken,
  fastifyVerifyToken,
  FlowTokenSigner,
  httpVerifyToken,
  koaVerifyToken,
  traceparentMeta,
  verifyReturnToken,
} from '../../src/index.js';
import type { Flows } from '../../src/index.js';
import type { HealthCounters } from '../../src/health.js';
import { Harness, KEYS } from '../callback/harness.js';

function listen(server: Server): Promise<string> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(server.address() as { port: number }).port}`)));
}

describe('token verification for the browser', () => {
  const harness = new Harness();
  let flows: Flows;
  let health: HealthCounters;
  beforeEach(() => ({ flows, health } = harness.flows()));
  afterEach(() => flows.shutdown());

  const tokens = () => {
    const flow = harness.createFlow('V-1');
    return {
      flow,
      valid: flows.passback(flow),
      forged: new FlowTokenSigner({ current: { id: 'k1', secret: 'not-the-server-secret-0123' } }).mint(flow, Date.now() / 1000)!,
      // Fine for a callback (48 h) but older than a return URL may be (30 min).
      expired: new FlowTokenSigner(KEYS).mint(flow, Date.now() / 1000 - 3600)!,
    };
  };

  it('verifyReturnToken answers with the traceparent of payment.create, or the reason', () => {
    const { flow, valid, forged, expired } = tokens();
    assert.deepEqual(verifyReturnToken(valid, { flows }), { valid: true, traceparent: `00-${flow.traceId}-${flow.spanId}-01` });
    assert.deepEqual(verifyReturnToken(forged, { flows }), { valid: false, reason: 'bad_signature' });
    assert.deepEqual(verifyReturnToken(expired, { flows }), { valid: false, reason: 'expired' });
    assert.deepEqual(verifyReturnToken(undefined, { flows }), { valid: false, reason: 'missing' });
    assert.equal(flows.verifyToken(expired, 'callback').ok, true, 'the same token is still good for a callback');
    assert.equal(health.get('tokensRejected'), 2);
  });

  it('traceparentMeta renders the meta tag only for a verified token', () => {
    const { flow, valid, forged } = tokens();
    assert.equal(
      traceparentMeta(`/checkout/return?order=1&otc_flow=${valid}`, { flows }),
      `<meta name="traceparent" content="00-${flow.traceId}-${flow.spanId}-01">`,
    );
    assert.equal(traceparentMeta(`/checkout/return?otc_flow=${forged}`, { flows }), '');
    assert.equal(traceparentMeta('/checkout/return', { flows }), '');
    assert.equal(traceparentMeta('/r?otc_flow=%E0%A4%A', { flows }), '');
  });

  async function exercise(base: string): Promise<void> {
    const { flow, valid, forged, expired } = tokens();
    const ask = async (token: string) => {
      const response = await fetch(`${base}/verify-token?otc_flow=${encodeURIComponent(token)}`);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('cache-control'), 'no-store');
      return response.json();
    };
    assert.deepEqual(await ask(valid), { valid: true, traceparent: `00-${flow.traceId}-${flow.spanId}-01` });
    assert.deepEqual(await ask(forged), { valid: false, reason: 'bad_signature' });
    assert.deepEqual(await ask(expired), { valid: false, reason: 'expired' });
    assert.deepEqual(await ask('garbage!'), { valid: false, reason: 'malformed' });
  }

  it('expressVerifyToken: valid, forged, expired, garbage', async () => {
    const app = express();
    app.get('/verify-token', expressVerifyToken({ flows }));
    const server = createServer(app);
    try {
      await exercise(await listen(server));
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('fastifyVerifyToken: valid, forged, expired, garbage', async () => {
    const app = Fastify();
    app.get('/verify-token', fastifyVerifyToken({ flows }));
    try {
      await exercise(await app.listen({ port: 0, host: '127.0.0.1' }));
    } finally {
      await app.close();
    }
  });

  it('koaVerifyToken: valid, forged, expired, garbage', async () => {
    const app = new Koa();
    app.use(koaVerifyToken({ flows }));
    // eslint-disable-next-line @typescript-eslint/no-misused-promises -- Koa's callback handles its own promise
    const server = createServer(app.callback());
    try {
      await exercise(await listen(server));
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('httpVerifyToken: valid, forged, expired, garbage', async () => {
    const server = createServer(httpVerifyToken({ flows }));
    try {
      await exercise(await listen(server));
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('httpVerifyToken also answers a POST with {"token": "..."}, reading at most a small body', async () => {
    const { flow, valid, forged } = tokens();
    const server = createServer(httpVerifyToken({ flows }));
    try {
      const base = await listen(server);
      const post = async (body: string) => {
        const response = await fetch(`${base}/verify-token`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        assert.equal(response.status, 200);
        assert.equal(response.headers.get('cache-control'), 'no-store');
        return response.json();
      };
      assert.deepEqual(await post(JSON.stringify({ token: valid })), { valid: true, traceparent: `00-${flow.traceId}-${flow.spanId}-01` });
      assert.deepEqual(await post(JSON.stringify({ token: forged })), { valid: false, reason: 'bad_signature' });
      assert.deepEqual(await post('not json'), { valid: false, reason: 'missing' });
      assert.deepEqual(await post(JSON.stringify({ token: valid, pad: 'x'.repeat(64 * 1024) })), { valid: false, reason: 'missing' }, 'a body over the bound is not read');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
