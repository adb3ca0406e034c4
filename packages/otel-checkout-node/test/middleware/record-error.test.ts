import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import express from 'express';
import { listenOnLoopback } from '@otel-checkout/test-support';
import type { StartedHttpServer } from '@otel-checkout/test-support';
import { expressPayments, payments } from '../../src/index.js';
import { captureWarnings } from '../support/capture-warnings.js';
import { startTracingSession } from '../support/tracing-session.js';
import type { TracingSession } from '../support/tracing-session.js';

class LedgerUnavailableError extends Error {
  override name = 'LedgerUnavailableError';
}

// An application whose framework answers a thrown error itself (a NestJS exception filter): the
// payment middleware never sees the error, only the status it was answered with.
describe('payments.recordError: an error the application answered itself', () => {
  for (const mode of ['lean', 'default'] as const) {
    describe(`${mode} mode`, () => {
      let session: TracingSession;
      let server: StartedHttpServer;
      let logs: ReturnType<typeof captureWarnings>;

      beforeEach(async () => {
        logs = captureWarnings();
        session = await startTracingSession('memory', { instrumentHttp: mode === 'default' });
        const app = express();
        // What an exception filter does: catch, record, answer.
        const answered = (recorded: boolean) => (_req: express.Request, res: express.Response) => {
          try {
            throw new LedgerUnavailableError('ledger at 10.0.0.7 refused');
          } catch (error) {
            if (recorded) payments.recordError(error);
            res.status(500).json({ statusCode: 500 });
          }
        };
        app.post('/pay/recorded', express.json(), expressPayments({ extract: () => ({ tradeNo: 'ERR-1' }) }), answered(true));
        app.post('/pay/unrecorded', express.json(), expressPayments({ extract: () => ({ tradeNo: 'ERR-2' }) }), answered(false));
        app.get('/health', answered(true));
        server = await listenOnLoopback(createServer(app));
      });
      afterEach(async () => {
        logs.restore();
        await server?.close();
        await session?.stop();
      });

      it('gives the server span the error type and an exception event, as a thrown error gets; outside a payment route it does nothing', async () => {
        for (const path of ['/pay/recorded', '/pay/unrecorded']) assert.equal((await fetch(server.url + path, { method: 'POST' })).status, 500);
        assert.equal((await fetch(`${server.url}/health`)).status, 500);
        const [recorded] = await session.waitForSpans((s) => s.kind === 'SERVER' && s.attributes['payment.trade_no'] === 'ERR-1');
        const [unrecorded] = await session.waitForSpans((s) => s.kind === 'SERVER' && s.attributes['payment.trade_no'] === 'ERR-2');
        assert.equal(recorded.attributes['error.type'], 'LedgerUnavailableError');
        assert.deepEqual(recorded.events.map((e) => [e.name, e.attributes['exception.type']]), [['exception', 'LedgerUnavailableError']]);
        assert.equal(recorded.attributes['payment.outcome'], 'failed');
        assert.equal(recorded.attributes['payment.failure.reason'], 'internal');
        assert.equal(recorded.status, 'ERROR');
        // Without it, the status alone is known.
        assert.equal(unrecorded.attributes['error.type'], '500');
        assert.deepEqual(unrecorded.events, []);
        assert.deepEqual(logs.warnings, []);
        assert.equal(session.handle.health().callsOutsideFlow, 0);
      });
    });
  }
});
