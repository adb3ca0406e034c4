import assert from 'node:assert/strict';
import { listenOnLoopback, startHttpServer } from '@otel-checkout/test-support';
import type { StartedHttpServer } from '@otel-checkout/test-support';
import http from 'node:http';
import { httpPayments, payments } from '../../src/index.js';
import { startTracingSession } from '../support/tracing-session.js';
import type { TracingSession } from '../support/tracing-session.js';

const FLOW_TOKEN = 'AQflowtokenvalue0123456789abcdef';
const SIGNATURE = 'sig-secret-value-4567';
const TRADE_NO = 'T20261204000007';

// instrumentation-undici records the query of every `fetch` as `url.query` with its leading
// `?` (`?otc_flow=...&sign=...`), besides `url.full`. The first parameter's name then starts
// with `?`, and must still be recognised as the flow token or a signature.
describe('the query of an outgoing fetch (url.query, leading "?") keeps no secret (OTLP protobuf on the wire)', () => {
  let session: TracingSession;
  let bank: StartedHttpServer;
  let app: StartedHttpServer;

  before(async () => {
    session = await startTracingSession('protobuf');
    bank = await startHttpServer((_req, res) => void res.end('{"valid":true}'));
    const pay = httpPayments(
      async (_req, res) => {
        await payments.create({ tradeNo: TRADE_NO, provider: 'acme' }, async () => {
          await (await fetch(`${bank.url}/verify?otc_flow=${FLOW_TOKEN}&amount=5`)).text();
          await (await fetch(`${bank.url}/query?sign=${SIGNATURE}&trade_no=${TRADE_NO}`)).text();
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

  it('scrubs the first parameter of url.query as it scrubs the others', async () => {
    await (await fetch(`${app.url}/pay`, { method: 'POST', body: '{}' })).text();
    const [verify, query] = await Promise.all([
      session.waitForSpan((s) => s.kind === 'CLIENT' && String(s.attributes['url.path']) === '/verify'),
      session.waitForSpan((s) => s.kind === 'CLIENT' && String(s.attributes['url.path']) === '/query'),
    ]);
    assert.equal(verify.attributes['url.query'], '?otc_flow=REDACTED&amount=5');
    assert.equal(query.attributes['url.query'], `?sign=REDACTED&trade_no=${TRADE_NO}`);
    const receiver = session.receiver!;
    for (const secret of [FLOW_TOKEN, SIGNATURE]) assert.deepEqual(receiver.requestsContaining(secret), [], `${secret} was exported`);
  });
});
