import assert from 'node:assert/strict';
import http from 'node:http';
import { listenOnLoopback, startHttpServer } from '@otel-checkout/test-support';
import type { StartedHttpServer } from '@otel-checkout/test-support';
import { httpPayments, payments } from '../../src/index.js';
import { startTracingSession } from '../support/tracing-session.js';
import type { TracingSession } from '../support/tracing-session.js';

// Lean mode (instrumentHttp: false) traces the payment routes and the provider calls made
// through providerCall, and nothing else: no other route, no other outgoing call.
describe('lean mode traces nothing but payment routes and provider calls', () => {
  let session: TracingSession;
  let provider: StartedHttpServer;
  let app: StartedHttpServer;
  const traceparents = new Map<string, string | undefined>();

  before(async () => {
    session = await startTracingSession('memory', { instrumentHttp: false });
    provider = await startHttpServer((req, res) => {
      traceparents.set(req.url ?? '', req.headers.traceparent as string | undefined);
      res.end('ok');
    });
    const pay = httpPayments(async (_req, res) => {
      await payments.create({ tradeNo: 'LEAN-1', provider: 'acme' }, async (flow) => {
        // A call outside providerCall: untraced, no header.
        await (await fetch(`${provider.url}/plain`)).text();
        await flow.providerCall('charge', async (call) => {
          const headers: Record<string, string> = {};
          call.inject(headers);
          await (await fetch(`${provider.url}/charge`, { headers })).text();
        });
      });
      res.end('paid');
    });
    app = await listenOnLoopback(
      http.createServer((req, res) => {
        if (req.url?.startsWith('/pay')) void pay(req, res);
        else res.end('status: up');
      }),
    );
  });

  after(async () => {
    await app?.close();
    await provider?.close();
    await session?.stop();
  });

  it('a route without the payment middleware makes no span; an outgoing call outside providerCall neither, nor carries a traceparent', async () => {
    assert.equal(await (await fetch(`${app.url}/status`)).text(), 'status: up');
    assert.equal(await (await fetch(`${app.url}/pay`, { method: 'POST' })).text(), 'paid');
    const charge = await session.waitForSpan((s) => s.name === 'payment.provider charge');
    const spans = await session.trace(charge.traceId);
    assert.deepEqual(spans.map((s) => s.name).sort(), ['POST', 'payment.create', 'payment.provider charge'].sort());
    assert.equal(spans.find((s) => s.name === 'POST')?.attributes['url.path'], '/pay');
    assert.equal(traceparents.get('/plain'), undefined, 'the plain fetch carried no trace context');
    assert.equal(traceparents.get('/charge'), `00-${charge.traceId}-${charge.spanId}-01`, 'the provider call did, from its own span');
    assert.deepEqual(
      session.spans().filter((s) => s.attributes['url.path'] === '/status' || s.kind === 'CLIENT' && s.name !== 'payment.provider charge'),
      [],
      'no span for /status, no CLIENT span but the provider call',
    );
  });
});
