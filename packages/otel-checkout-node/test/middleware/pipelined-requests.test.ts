import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import { listenOnLoopback } from '@otel-checkout/test-support';
import type { StartedHttpServer } from '@otel-checkout/test-support';
import { httpPayments } from '../../src/index.js';
import type { ResponseInfo } from '../../src/index.js';
import { parseRawResponses, sendRaw } from '../support/raw-http.js';
import { startTracingSession } from '../support/tracing-session.js';
import type { TracingSession } from '../support/tracing-session.js';

// HTTP/1.1 pipelining: a client sends requests one behind the other on one kept-alive
// connection without waiting for the answers. Node runs each request's handler at once, but
// queues its response until the ones before it are finished.

const pipelined = (paths: readonly string[], last: 'close' | 'keep-alive'): Buffer[] =>
  paths.map((path, i) => Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: ${i === paths.length - 1 ? last : 'keep-alive'}\r\n\r\n`));

for (const mode of ['lean', 'default'] as const) {
  describe(`pipelined requests on a payment route (${mode} mode)`, () => {
    let session: TracingSession;
    let server: StartedHttpServer;
    let release: () => void;
    let held: Promise<void>;
    let arrived: string[];
    let allArrived: (count: number) => Promise<void>;
    const outcomes: ResponseInfo[] = [];

    before(async () => {
      session = await startTracingSession('memory', { instrumentHttp: mode === 'default' });
      const waiters: Array<() => void> = [];
      allArrived = (count) => (arrived.length >= count ? Promise.resolve() : new Promise((resolve) => waiters.push(() => arrived.length >= count && resolve())));
      const handler = httpPayments(
        async (req, res) => {
          arrived.push(req.url ?? '');
          for (const waiter of waiters) waiter();
          // The first request waits; those behind it answer at once, into the queue.
          if (req.url === '/pay/0') await held;
          res.end(`answer ${req.url}`);
        },
        { outcome: (response) => void outcomes.push(response) },
      );
      server = await listenOnLoopback(createServer((req, res) => void handler(req, res)));
    });

    after(async () => {
      await server?.close();
      await session?.stop();
    });

    beforeEach(() => {
      session.clear();
      arrived = [];
      outcomes.length = 0;
      held = new Promise((resolve) => (release = resolve));
    });

    it('answers many requests on one connection in order, each with its own server span and status', async () => {
      const paths = Array.from({ length: 25 }, (_, i) => `/pay/${i}`);
      const answer = sendRaw(server.port, pipelined(paths, 'close'));
      await allArrived(paths.length);
      release();
      const responses = parseRawResponses(await answer);
      assert.deepEqual(
        responses.map((response) => response.body.toString()),
        paths.map((path) => `answer ${path}`),
      );
      const spans = await session.waitForSpans((s) => s.kind === 'SERVER', paths.length);
      for (const path of paths) {
        const [span] = spans.filter((s) => s.attributes['url.path'] === path);
        assert.equal(span?.attributes['http.response.status_code'], 200, path);
        assert.equal(span.status, 'UNSET', path);
      }
    });

    it('ends the spans of answers still queued when the client closes the connection: errors, nothing sent', async () => {
      const paths = ['/pay/0', '/pay/1', '/pay/2'];
      const socket = connect(server.port, '127.0.0.1');
      socket.on('error', () => undefined);
      for (const part of pipelined(paths, 'keep-alive')) socket.write(part);
      await allArrived(paths.length);
      // /pay/1 and /pay/2 have answered into the queue behind /pay/0; the client gives up on all three.
      socket.destroy();
      const spans = await session.waitForSpans((s) => s.kind === 'SERVER', paths.length);
      release();
      for (const path of paths) {
        const [span] = spans.filter((s) => s.attributes['url.path'] === path);
        assert.ok(span, `a server span for ${path}`);
        assert.equal(span.status, 'ERROR', path);
        assert.equal(span.attributes['error.type'], '_OTHER', path);
        assert.equal(span.attributes['http.response.status_code'], undefined, path);
      }
      assert.equal(outcomes.length, paths.length, 'the outcome hook ran once per request');
    });
  });
}
