import assert from 'node:assert/strict';
import http from 'node:http';
import { trace } from '@opentelemetry/api';
import { listenOnLoopback } from '@otel-checkout/test-support';
import type { StartedHttpServer } from '@otel-checkout/test-support';
import { httpPayments, payments } from '../../src/index.js';
import { startTracingSession } from '../support/tracing-session.js';
import type { TracingSession } from '../support/tracing-session.js';

const TRADE_NO = 'T20261204000023';
const CVC = '737';
const TEST_CARD = '4111111111111111';
const EXPIRY_MONTH = '03';

// A provider's form-encoded request body, as a client library or the application puts it in
// an error message (`provider rejected card[cvc]=...`): card fields named in brackets, the
// way card APIs spell them in forms. The redaction rules find `cvc=737`; the bracketed
// name must not hide it.
describe('a form body in an exception message keeps no card data (OTLP protobuf on the wire)', () => {
  let session: TracingSession;
  let app: StartedHttpServer;
  let body = '';

  before(async () => {
    session = await startTracingSession('protobuf');
    const pay = httpPayments(
      async (_req, res) => {
        try {
          await payments.create({ tradeNo: TRADE_NO, provider: 'acme' }, async (flow) => {
            await flow.providerCall('charge', () => Promise.reject(new Error(`provider rejected ${body}`)));
          });
        } catch (error) {
          trace.getActiveSpan()?.setAttribute('app.last_error', (error as Error).message);
        }
        res.end('failed');
      },
      { extract: () => ({ tradeNo: TRADE_NO, provider: 'acme' }) },
    );
    app = await listenOnLoopback(http.createServer((req, res) => void pay(req, res).catch(() => undefined)));
  });

  after(async () => {
    await app?.close();
    await session?.stop();
  });

  async function exported(formBody: string): Promise<void> {
    session.clear();
    body = formBody;
    await (await fetch(`${app.url}/pay`, { method: 'POST', body: '{}' })).text();
    await session.waitForSpan((s) => s.name === 'payment.provider charge');
    await session.waitForSpan((s) => s.kind === 'SERVER' && typeof s.attributes['app.last_error'] === 'string');
  }

  it('card fields named in brackets (card[cvc]=...)', async () => {
    await exported(`amount=500&card[cvc]=${CVC}&card[exp_month]=${EXPIRY_MONTH}&currency=eur`);
    const call = session.spans().find((s) => s.name === 'payment.provider charge')!;
    const message = String(call.events.find((e) => e.name === 'exception')?.attributes['exception.message']);
    assert.equal(message, 'provider rejected amount=500&card[cvc]=[REDACTED]&card[exp_month]=[REDACTED]&currency=eur');
    const receiver = session.receiver!;
    for (const secret of [`cvc]=${CVC}`, `month]=${EXPIRY_MONTH}`]) {
      assert.deepEqual(receiver.requestsContaining(secret), [], `${secret} was exported`);
    }
  });

  it('a card field is redacted by its name, as the attribute key card[number] would be', async () => {
    await exported(`card[number]=4111+1111+1111+1111&amount=500`);
    const server = session.spans().find((s) => s.kind === 'SERVER' && typeof s.attributes['app.last_error'] === 'string')!;
    assert.equal(server.attributes['app.last_error'], 'provider rejected card[number]=[REDACTED]&amount=500');
    const receiver = session.receiver!;
    for (const secret of ['4111+1111+1111', TEST_CARD]) assert.deepEqual(receiver.requestsContaining(secret), [], `${secret} was exported`);
  });

  // In a field whose name says nothing, the card number itself is found and masked.
  it('a card number typed in groups, its spaces form-encoded as "+"', async () => {
    await exported(`memo=4111+1111+1111+1111&amount=500`);
    const server = session.spans().find((s) => s.kind === 'SERVER' && typeof s.attributes['app.last_error'] === 'string')!;
    assert.equal(server.attributes['app.last_error'], 'provider rejected memo=************1111&amount=500');
    const receiver = session.receiver!;
    for (const secret of ['4111+1111+1111', TEST_CARD]) assert.deepEqual(receiver.requestsContaining(secret), [], `${secret} was exported`);
  });

  it('a card number typed in groups, its spaces URL-encoded as "%20"', async () => {
    await exported(`memo=4111%201111%201111%201111&amount=500`);
    const server = session.spans().find((s) => s.kind === 'SERVER' && typeof s.attributes['app.last_error'] === 'string')!;
    assert.equal(server.attributes['app.last_error'], 'provider rejected memo=************1111&amount=500');
    const receiver = session.receiver!;
    for (const secret of ['4111%201111%201111', TEST_CARD]) assert.deepEqual(receiver.requestsContaining(secret), [], `${secret} was exported`);
  });
});
