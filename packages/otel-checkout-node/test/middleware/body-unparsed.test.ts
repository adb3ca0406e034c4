import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import express from 'express';
import { listenOnLoopback } from '@otel-checkout/test-support';
import type { StartedHttpServer } from '@otel-checkout/test-support';
import { expressPayments } from '../../src/index.js';
import type { PaymentExtractor } from '../../src/index.js';
import { captureWarnings } from '../support/capture-warnings.js';
import { startTracingSession } from '../support/tracing-session.js';
import type { TracingSession } from '../support/tracing-session.js';

const SAID = 'a request body was not parsed when payment details were read from it';

const extract: PaymentExtractor = (request) => ({ tradeNo: request.json()?.tradeNo as string | undefined });

describe('a payment body the middleware reads before any parser did', () => {
  let session: TracingSession;
  let server: StartedHttpServer | undefined;
  let logs: ReturnType<typeof captureWarnings>;

  beforeEach(async () => {
    logs = captureWarnings();
    session = await startTracingSession('memory', { instrumentHttp: false });
  });
  afterEach(async () => {
    logs.restore();
    await server?.close();
    server = undefined;
    await session.stop();
  });

  const pay = async (path: string): Promise<void> => {
    const response = await fetch(server!.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"tradeNo":"UNPARSED-1"}' });
    assert.equal(response.status, 200);
  };

  it('is said once, naming the order to change; in the right order nothing is said', async () => {
    const app = express();
    // The mistake: the parser after the middleware (as NestJS's is after anything app.use'd in main.ts).
    app.post('/late', expressPayments({ extract }), express.json(), (_req, res) => void res.json({}));
    app.post('/right', express.json(), expressPayments({ extract }), (_req, res) => void res.json({}));
    // A request without a body reads no body: nothing to say.
    app.get('/empty', expressPayments({ extract }), (_req, res) => void res.json({}));
    server = await listenOnLoopback(createServer(app));
    await pay('/right');
    assert.equal((await fetch(`${server.url}/empty`)).status, 200);
    assert.deepEqual(logs.warnings.filter((w) => w.includes(SAID)), []);
    await pay('/late');
    await pay('/late');
    const said = logs.warnings.filter((w) => w.includes(SAID));
    assert.equal(said.length, 1, logs.warnings.join('\n'));
    assert.match(said[0], /mount the body parser before the payment middleware/);
    const spans = await session.waitForSpans((s) => s.kind === 'SERVER', 4);
    assert.deepEqual(spans.map((s) => s.attributes['payment.trade_no']), ['UNPARSED-1', undefined, undefined, undefined]);
  });
});
