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
/** More of the card than its network and issuer digits: what must never be exported. */
const CARD_PART = TEST_CARD.slice(0, 7);
const LIMIT = 48;
const TRADE_NO = 'T20261203000042';

/** `text` padded so that the SDK's cut at LIMIT leaves the first `kept` digits of the card. */
function cutInsideCard(text: string, kept: number): string {
  return `${text.padEnd(LIMIT - kept, '.')}${TEST_CARD}`;
}

// Services often set OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT. The SDK cuts values to it as they are
// set, before redaction: a card number cut there has lost its last digits and its Luhn check,
// and its first twelve could have been exported as an ordinary number.
describe('values cut by OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT keep no card digits (OTLP protobuf on the wire)', () => {
  let session: TracingSession;
  let bank: StartedHttpServer;
  let app: StartedHttpServer;

  before(async () => {
    bank = await startHttpServer((_req, res) => void res.end('accepted'));
    process.env.OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT = String(LIMIT);
    try {
      session = await startTracingSession('protobuf');
    } finally {
      delete process.env.OTEL_ATTRIBUTE_VALUE_LENGTH_LIMIT;
    }
    const pay = httpPayments(
      async (_req, res) => {
        // The active span here is the package's own server span.
        trace.getActiveSpan()?.setAttribute('app.server_note', cutInsideCard('server saw card', 12));
        await payments.create({ tradeNo: TRADE_NO, provider: 'acme' }, async (flow) => {
          // The SDK's span, and the outgoing call's URL made by instrumentation-http.
          trace.getActiveSpan()?.setAttribute('app.note', cutInsideCard('charged card', 14));
          // A path segment long enough that the cut leaves ten digits of the card.
          const padding = 'p'.repeat(LIMIT - 10 - `${bank.url}//cards/`.length);
          await httpGet(`${bank.url}/${padding}/cards/${TEST_CARD}/charge`);
          flow.recordOutcome('failed', { reason: 'provider_error' });
        });
        res.statusCode = 500;
        res.end('failed');
        throw new Error(cutInsideCard('provider refused card', 13));
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

  it('in the server span, an SDK span, an outgoing URL and an exception message', async () => {
    const response = await fetch(`${app.url}/pay`, { method: 'POST', body: '{}' });
    await response.text();
    const client = await session.waitForSpan((s) => s.kind === 'CLIENT' && String(s.attributes['url.full']).includes('/cards/'));
    const server = await session.waitForSpan((s) => s.kind === 'SERVER' && s.attributes['url.path'] === '/pay');
    const create = await session.waitForSpan((s) => s.name === 'payment.create');

    // The limit was applied, and each value was cut inside the card.
    for (const value of [client.attributes['url.full'], server.attributes['app.server_note'], create.attributes['app.note']]) {
      assert.equal(String(value).length, LIMIT, `${String(value)} was cut at the limit`);
    }
    assert.match(String(server.attributes['app.server_note']), /server saw card\.*\*{12}$/);
    assert.match(String(create.attributes['app.note']), /charged card\.*\*{14}$/);
    assert.match(String(client.attributes['url.full']), /\/cards\/\*{10}$/);
    const exception = server.events.find((event) => event.name === 'exception');
    assert.match(String(exception?.attributes['exception.message']), /provider refused card\.*\*{13}$/);

    const receiver = session.receiver!;
    assert.deepEqual(receiver.requestsContaining(CARD_PART), [], 'no exported byte holds more than six digits of the card');
    assert.ok(receiver.requestsContaining(TRADE_NO).length > 0, 'the trade number stays searchable');
    assert.ok(session.handle.health().redactions >= 4);
  });
});
