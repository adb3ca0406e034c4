import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { freePort, startHttpServer } from '../src/index.js';

describe('freePort', function () {
  it('returns a port that can be listened on at once', async function () {
    const port = await freePort();
    assert.ok(Number.isInteger(port) && port > 0 && port < 65536);
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', resolve);
    });
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
});

describe('startHttpServer', function () {
  it('serves the handler on a loopback URL and closes with keep-alive connections open', async function () {
    const server = await startHttpServer((request, response) => {
      response.setHeader('content-type', 'text/plain');
      response.end(`${request.method} ${request.url}`);
    });
    try {
      assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.equal(server.url, `http://127.0.0.1:${server.port}`);
      const response = await fetch(`${server.url}/pay?x=1`, { method: 'POST', body: 'b' });
      assert.equal(await response.text(), 'POST /pay?x=1');
    } finally {
      await server.close();
    }
    await assert.rejects(fetch(server.url));
  });

  it('answers 500 when the handler throws or rejects, and keeps serving', async function () {
    const server = await startHttpServer(async (request, response) => {
      if (request.url === '/throw') throw new Error('boom');
      await Promise.resolve();
      if (request.url === '/reject') throw new Error('late boom');
      response.end('ok');
    });
    try {
      const thrown = await fetch(`${server.url}/throw`);
      assert.equal(thrown.status, 500);
      assert.match(await thrown.text(), /handler failed: Error: boom/);
      assert.equal((await fetch(`${server.url}/reject`)).status, 500);
      assert.equal(await (await fetch(`${server.url}/fine`)).text(), 'ok');
    } finally {
      await server.close();
    }
  });

  it('answers 500 for a synchronous throw too', async function () {
    const server = await startHttpServer(() => {
      throw new Error('sync boom');
    });
    try {
      const response = await fetch(server.url);
      assert.equal(response.status, 500);
      assert.match(await response.text(), /sync boom/);
    } finally {
      await server.close();
    }
  });
});
