import assert from 'node:assert/strict';
import http from 'node:http';
import { trace } from '@opentelemetry/api';
import { listenOnLoopback, startHttpServer } from '@otel-checkout/test-support';
import type { StartedHttpServer } from '@otel-checkout/test-support';
import { httpPayments, payments } from '../../src/index.js';
import { httpGet } from '../support/http-get.js';
import { startTracingSession } from '../support/tracing-session.js';
import type { TracingSession } from '../support/tracing-session.js';

const TEST_CARD = '4111111111111111';
/** A trade number that passes the Luhn check with a card-network prefix: it must stay searchable. */
const LUHN_TRADE_NO = '6202411200000000';
const TOKEN = 'tok-secret-value-0123';
const SIGNATURE = 'sig-secret-value-4567';

// Default mode records URLs of incoming and outgoing requests: a card number, token or
// signature in them, in a body the application copies into an attribute, or in an exception
// message must reach no exported byte, while the trade number stays searchable.
describe('secrets reach no exported byte (default mode, OTLP protobuf on the wire)', () => {
  let session: TracingSession;
  let bank: StartedHttpServer;
  let app: StartedHttpServer;

  before(async () => {
    session = await startTracingSession('protobuf');
    bank = await startHttpServer((_req, res) => void res.end('accepted'));
    const pay = httpPayments(
      async (_req, res) => {
        await payments.create({ tradeNo: LUHN_TRADE_NO, provider: 'acme' }, async (flow) => {
          trace.getActiveSpan()?.setAttribute('app.note', `charged card ${TEST_CARD}`);
          await httpGet(`${bank.url}/charge?card=${TEST_CARD}&sign=${SIGNATURE}&amount=5`);
          flow.recordOutcome('failed', { reason: 'provider_error' });
        });
        res.statusCode = 500;
        res.end('failed');
        throw new Error(`provider refused card ${TEST_CARD}`);
      },
      { extract: () => ({ tradeNo: LUHN_TRADE_NO, provider: 'acme' }) },
    );
    app = await listenOnLoopback(http.createServer((req, res) => void pay(req, res).catch(() => undefined)));
  });

  after(async () => {
    await app?.close();
    await bank?.close();
    await session?.stop();
  });

  it('in URLs (incoming and outgoing), attributes and exception messages', async () => {
    const response = await fetch(`${app.url}/pay?card=${TEST_CARD}&token=${TOKEN}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-card-number': TEST_CARD },
      body: JSON.stringify({ card: TEST_CARD, cvv: '123' }),
    });
    await response.text();
    const client = await session.waitForSpan((s) => s.kind === 'CLIENT' && String(s.attributes['url.full']).includes('/charge'));
    await session.waitForSpan((s) => s.kind === 'SERVER' && s.attributes['url.path'] === '/pay');
    const receiver = session.receiver!;
    assert.ok(receiver.requests.length > 0);
    for (const secret of [TEST_CARD, TOKEN, SIGNATURE]) assert.deepEqual(receiver.requestsContaining(secret), [], `${secret} was exported`);
    assert.ok(receiver.requestsContaining(LUHN_TRADE_NO).length > 0, 'the trade number stays searchable');
    assert.match(String(client.attributes['url.full']), /card=[^&]*1111&sign=REDACTED&amount=5$/, 'the outgoing URL keeps its shape');
  });
});
