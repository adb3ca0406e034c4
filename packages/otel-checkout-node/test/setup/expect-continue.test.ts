import assert from 'node:assert/strict';
import http from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { trace } from '@opentelemetry/api';
import { listenOnLoopback } from '@otel-checkout/test-support';
import { startTracingSession } from '../support/tracing-session.js';
import type { TracingSession } from '../support/tracing-session.js';

// A client that sends `Expect: 100-continue` waits for the server's "100 Continue" before its
// body. Node answers it itself and emits 'request', unless the application listens for
// 'checkContinue': then Node emits that instead of 'request', and the listener decides.

/** Answers with the span active when the handler ran, once the whole body came. */
function answerWithActiveSpan(req: IncomingMessage, res: ServerResponse): void {
  const active = trace.getActiveSpan()?.spanContext().spanId ?? 'none';
  let length = 0;
  req.on('data', (chunk: Buffer) => (length += chunk.length));
  req.on('end', () => res.end(`${active} ${length}`));
}

/** POSTs `body` with `Expect: 100-continue`, sending the body only once the server lets it. */
function postExpectingContinue(url: string, body: string): Promise<{ status: number; text: string; continued: boolean }> {
  return new Promise((resolve, reject) => {
    let continued = false;
    const request = http.request(url, { method: 'POST', agent: false, headers: { expect: '100-continue', 'content-length': Buffer.byteLength(body) } }, (response) => {
      let text = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (text += chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, text, continued }));
    });
    request.on('error', reject);
    request.on('continue', () => {
      continued = true;
      request.end(body);
    });
  });
}

describe('default mode server spans of requests with Expect: 100-continue', () => {
  let session: TracingSession;
  before(async () => {
    session = await startTracingSession('memory');
  });
  after(() => session.stop());
  beforeEach(() => session.clear());

  const cases: Array<[string, (server: Server) => void]> = [
    ['Node answers the expectation itself (no checkContinue listener)', () => undefined],
    [
      'a checkContinue listener lets the body come and handles the request itself',
      (server) => server.on('checkContinue', (req, res) => (res.writeContinue(), answerWithActiveSpan(req, res))),
    ],
    [
      "a checkContinue listener lets the body come and hands the request on as 'request'",
      (server) => server.on('checkContinue', (req, res) => (res.writeContinue(), server.emit('request', req, res))),
    ],
  ];

  for (const [title, listen] of cases) {
    it(`${title}: one server span, active in the handler`, async () => {
      const server = http.createServer(answerWithActiveSpan);
      listen(server);
      const started = await listenOnLoopback(server);
      try {
        const answer = await postExpectingContinue(`${started.url}/orders`, 'hello');
        assert.equal(answer.status, 200);
        assert.ok(answer.continued, 'the client was told to continue');
        const [activeSpanId, length] = answer.text.split(' ');
        assert.equal(length, '5', 'the whole body reached the handler');
        const span = await session.waitForSpan((s) => s.kind === 'SERVER' && s.attributes['url.path'] === '/orders');
        assert.equal(span.spanId, activeSpanId, 'the handler ran inside the server span');
        assert.equal(span.attributes['http.response.status_code'], 200);
        await session.handle.flush();
        assert.equal(session.spans().filter((s) => s.kind === 'SERVER').length, 1, 'one server span');
      } finally {
        await started.close();
      }
    });
  }
});
