import assert from 'node:assert/strict';
import http from 'node:http';
import type { ServerResponse } from 'node:http';
import { startHttpServer } from '@otel-checkout/test-support';
import { onResponseDone } from '../../src/adapters/response-end.js';

type Done = { statusCode: number; sent: boolean };

/** A server whose handler watches its response with onResponseDone and reports every call. */
async function watchedServer(respond: (res: ServerResponse) => void): Promise<{ url: string; calls: Done[]; called: Promise<Done>; close(): Promise<void> }> {
  const calls: Done[] = [];
  let resolveCalled!: (done: Done) => void;
  const called = new Promise<Done>((resolve) => (resolveCalled = resolve));
  const server = await startHttpServer((_req, res) => {
    onResponseDone(res, (statusCode, sent) => {
      calls.push({ statusCode, sent });
      resolveCalled({ statusCode, sent });
    });
    respond(res);
  });
  return { url: server.url, calls, called, close: () => server.close() };
}

describe('onResponseDone', () => {
  it('reports a completed response once, with its status, after it was sent', async () => {
    const server = await watchedServer((res) => {
      res.statusCode = 201;
      res.end('created');
    });
    try {
      const response = await fetch(`${server.url}/pay`);
      assert.equal(await response.text(), 'created');
      assert.deepEqual(await server.called, { statusCode: 201, sent: true });
      // The connection is closed too; nothing more is reported.
      await server.close();
      assert.equal(server.calls.length, 1);
    } finally {
      await server.close();
    }
  });

  it('reports a connection closed before any answer as not sent', async () => {
    let seen!: () => void;
    const requestSeen = new Promise<void>((resolve) => (seen = resolve));
    const server = await watchedServer(() => seen());
    try {
      const request = http.get(`${server.url}/pay`, { agent: false });
      request.on('error', () => undefined);
      await requestSeen;
      request.destroy();
      assert.deepEqual(await server.called, { statusCode: 200, sent: false });
      assert.equal(server.calls.length, 1);
    } finally {
      await server.close();
    }
  });

  it('reports at once a response that was already over when it was called', () => {
    const calls: Done[] = [];
    const over = { statusCode: 502, headersSent: false, writableFinished: false, destroyed: true, prependListener: () => assert.fail('no listener for a response that is over') };
    onResponseDone(over, (statusCode, sent) => calls.push({ statusCode, sent }));
    assert.deepEqual(calls, [{ statusCode: 502, sent: false }]);
  });
});
