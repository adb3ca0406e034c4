import assert from 'node:assert/strict';
import http from 'node:http';
import { listenOnLoopback, startHttpServer } from '@otel-checkout/test-support';
import type { StartedHttpServer } from '@otel-checkout/test-support';
import { httpPayments, payments } from '../../src/index.js';
import { httpGet } from '../support/http-get.js';
import { startTracingSession } from '../support/tracing-session.js';
import type { TracingSession } from '../support/tracing-session.js';

const TEST_CARD = '4111111111111111';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRADE_NO = 'T20261204000031';

// `tracestate` comes from the client like `baggage`, and the SDK exports it with every span of
// the trace (and every link to them) without any processor seeing it, and forwards it to every
// outgoing call. A member the redaction rules would change (a card number, an
// `authorization:Bearer ...` pair) is dropped on the way in, as baggage entries are.
describe('an incoming tracestate member holding a card number or a credential (OTLP protobuf on the wire)', () => {
  let session: TracingSession;
  let bank: StartedHttpServer;
  let app: StartedHttpServer;
  const forwarded: Array<string | undefined> = [];

  before(async () => {
    session = await startTracingSession('protobuf');
    bank = await startHttpServer((req, res) => {
      forwarded.push(req.headers.tracestate as string | undefined);
      res.end('accepted');
    });
    const pay = httpPayments(
      async (_req, res) => {
        await payments.create({ tradeNo: TRADE_NO, provider: 'acme' }, async () => {
          await httpGet(`${bank.url}/charge`);
        });
        res.end('ok');
      },
      { extract: () => ({ tradeNo: TRADE_NO, provider: 'acme' }) },
    );
    app = await listenOnLoopback(http.createServer((req, res) => void pay(req, res).catch(() => undefined)));
  });

  after(async () => {
    await app?.close();
    await bank?.close();
    await session?.stop();
  });

  it('is neither exported nor forwarded; the other members and the trace are kept', async () => {
    const malformedBefore = session.handle.health().malformedTracestate ?? 0;
    await (
      await fetch(`${app.url}/pay`, {
        method: 'POST',
        body: '{}',
        headers: {
          traceparent: `00-${TRACE_ID}-00f067aa0ba902b7-01`,
          // A bearer token under a name no rule knows (`acme=Bearer …`) is a credential too.
          tracestate: `shop=card:${TEST_CARD},vendor=ok,auth=authorization:Bearer s3cr3t-b3ar3r,acme=Bearer eyJTRACESTATESECRET20`,
        },
      })
    ).text();
    const spans = await session.waitForSpans((s) => s.traceId === TRACE_ID, 3);
    assert.ok(spans.some((s) => s.name === 'payment.create'), 'the request joined the caller trace');
    assert.deepEqual(forwarded, ['vendor=ok']);
    const receiver = session.receiver!;
    for (const secret of [TEST_CARD, 's3cr3t-b3ar3r', 'eyJTRACESTATESECRET20']) assert.deepEqual(receiver.requestsContaining(secret), [], `${secret} was exported`);
    assert.ok(receiver.requestsContaining('vendor=ok').length > 0, 'the other members are exported as before');
    assert.equal(session.handle.health().malformedTracestate, malformedBefore + 1);
  });
});
