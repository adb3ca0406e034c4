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

  it('reports at once a response that had emitted close when it was called, and once only', async () => {
    const calls: Done[] = [];
    let reported!: (done: Done) => void;
    const done = new Promise<Done>((resolve) => (reported = resolve));
    const server = await startHttpServer((_req, res) => {
      res.on('close', () => {
        // Called after 'close' went out: no listener could ever run, so it reports now.
        setImmediate(() =>
          onResponseDone(res, (statusCode, sent) => {
            calls.push({ statusCode, sent });
            reported({ statusCode, sent });
          }),
        );
      });
      res.statusCode = 202;
      res.end('accepted');
    });
    try {
      const response = await fetch(`${server.url}/pay`);
      assert.equal(await response.text(), 'accepted');
      assert.deepEqual(await done, { statusCode: 202, sent: true });
      await server.close();
      assert.equal(calls.length, 1);
    } finally {
      await server.close();
    }
  });

  it('waits for close on a response that finished but has not emitted close yet', async () => {
    const calls: Done[] = [];
    let closedAtFinish: boolean | undefined;
    let reported!: (done: Done) => void;
    const done = new Promise<Done>((resolve) => (reported = resolve));
    const server = await startHttpServer((_req, res) => {
      res.on('finish', () => {
        // 'finish' comes before 'close': the response is finished, but 'close' is still to come.
        closedAtFinish = res.closed;
        onResponseDone(res, (statusCode, sent) => {
          calls.push({ statusCode, sent });
          reported({ statusCode, sent });
        });
      });
      res.end('ok');
    });
    try {
      await (await fetch(`${server.url}/pay`)).text();
      assert.deepEqual(await done, { statusCode: 200, sent: true });
      assert.equal(closedAtFinish, false);
      await server.close();
      assert.equal(calls.length, 1);
    } finally {
      await server.close();
    }
  });

  it('reports at once a response that was already over, where Node has no closed property', () => {
    const calls: Done[] = [];
    const over = { statusCode: 502, headersSent: false, writableFinished: false, destroyed: true, prependListener: () => assert.fail('no listener for a response that is over') };
    onResponseDone(over, (statusCode, sent) => calls.push({ statusCode, sent }));
    assert.deepEqual(calls, [{ statusCode: 502, sent: false }]);
  });
});
