import assert from 'node:assert/strict';
import http from 'node:http';
import { listenOnLoopback } from '@otel-checkout/test-support';
import type { StartedHttpServer } from '@otel-checkout/test-support';
import { httpCallback, httpPayments, payments } from '../../src/index.js';
import { startTracingSession } from '../support/tracing-session.js';
import type { TracingSession } from '../support/tracing-session.js';

const TEST_CARD = '4111111111111111';
/** More of the card than its network and issuer digits: what must never be exported. */
const CARD_PART = TEST_CARD.slice(0, 7);
/** The package keeps this much of a provider's raw status. */
const STATUS_LIMIT = 128;
const TRADE_NO = 'T20261204000011';
const TABLE = { PAID: 'succeeded' } as const;

/** A raw status the package's cut at 128 characters ends inside the card, leaving its first `kept` digits. */
function statusCutInsideCard(kept: number): string {
  return `${'DECLINED card'.padEnd(STATUS_LIMIT - kept, '.')}${TEST_CARD} by issuer`;
}

// A provider's raw status is recorded (payment.provider.status, the payment.status.unmapped
// event) cut to 128 characters. A card number a provider echoes in a long status text and
// that this cut splits has lost its last digits and its Luhn check, so the redaction rules
// no longer see a card in it.
describe('a raw provider status cut to 128 characters keeps no card digits (OTLP protobuf on the wire)', () => {
  let session: TracingSession;
  let app: StartedHttpServer;

  before(async () => {
    session = await startTracingSession('protobuf');
    const pay = httpPayments(
      async (req, res) => {
        if (req.url === '/notify') return;
        await payments.create({ tradeNo: TRADE_NO, provider: 'acme' }, async (flow) => {
          await flow.providerCall('charge', (call) => Promise.resolve(call.status(statusCutInsideCard(12), TABLE)));
        });
        res.end('ok');
      },
      { extract: () => ({ tradeNo: TRADE_NO, provider: 'acme' }) },
    );
    const status = (_req: unknown, fields: Record<string, unknown> | undefined): string | undefined =>
      typeof fields?.status === 'string' ? fields.status : undefined;
    const mapped = httpCallback((_req, res) => void res.end('success'), { readBody: true, status, statusTable: TABLE });
    const unmapped = httpCallback((_req, res) => void res.end('success'), { readBody: true, status });
    app = await listenOnLoopback(
      http.createServer((req, res) => {
        if (req.url === '/notify') void mapped(req, res);
        else if (req.url === '/notify-raw') void unmapped(req, res);
        else void pay(req, res).catch(() => undefined);
      }),
    );
  });

  after(async () => {
    await app?.close();
    await session?.stop();
  });

  it('in the provider call, the callback (with and without a status table) and the unmapped-status event', async () => {
    await (await fetch(`${app.url}/pay`, { method: 'POST', body: '{}' })).text();
    for (const [path, kept] of [['/notify', 13], ['/notify-raw', 11]] as const) {
      const body = JSON.stringify({ status: statusCutInsideCard(kept) });
      await (await fetch(`${app.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body })).text();
    }
    const withStatus = await session.waitForSpans((s) => typeof s.attributes['payment.provider.status'] === 'string', 3);
    for (const span of withStatus) {
      const status = String(span.attributes['payment.provider.status']);
      assert.equal(status.length, STATUS_LIMIT, `${span.name}: the status was cut`);
      assert.match(status, /^DECLINED card\.+\*{10,13}$/, `${span.name}: ${status}`);
    }
    const events = withStatus.flatMap((s) => s.events.filter((e) => e.name === 'payment.status.unmapped'));
    assert.equal(events.length, 2, 'the provider call and the callback with a table record the unmapped status');

    const receiver = session.receiver!;
    assert.deepEqual(receiver.requestsContaining(CARD_PART), [], 'no exported byte holds more than six digits of the card');
  });
});
