import * as assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { Server, Socket } from 'node:net';
import { context, ROOT_CONTEXT } from '@opentelemetry/api';
import { payments } from '../../src/index.js';
import { failureReasonOf } from '../../src/payments/failure-reason.js';
import { startTracingSession } from '../support/tracing-session.js';
import type { TracingSession } from '../support/tracing-session.js';

const coded = (code: string, cause?: unknown): Error => Object.assign(new Error(`failed: ${code}`, cause === undefined ? {} : { cause }), { code });
const named = (name: string): Error => Object.assign(new Error(name), { name });
const fetchFailed = (cause: unknown): Error => new TypeError('fetch failed', { cause });

describe('failureReasonOf', () => {
  const cyclic = new Error('cyclic');
  (cyclic as { cause?: unknown }).cause = new Error('inner', { cause: cyclic });
  let deep: unknown = coded('ECONNREFUSED');
  for (let i = 0; i < 20; i += 1) deep = new Error(`wrap ${i}`, { cause: deep });
  const throwingGetter = Object.defineProperty(new Error('getter'), 'cause', {
    get() {
      throw new Error('no cause for you');
    },
  });

  const table: { title: string; error: unknown; reason: string }[] = [
    { title: 'a code on the error itself', error: coded('ECONNREFUSED'), reason: 'network' },
    { title: 'fetch failed, ECONNREFUSED on cause', error: fetchFailed(coded('ECONNREFUSED')), reason: 'network' },
    { title: 'fetch failed, ENOTFOUND on cause', error: fetchFailed(coded('ENOTFOUND')), reason: 'network' },
    { title: 'fetch failed, EAI_AGAIN on cause', error: fetchFailed(coded('EAI_AGAIN')), reason: 'network' },
    { title: 'fetch failed, ECONNRESET on cause', error: fetchFailed(coded('ECONNRESET')), reason: 'network' },
    { title: 'fetch failed, undici socket error on cause', error: fetchFailed(coded('UND_ERR_SOCKET')), reason: 'network' },
    { title: 'fetch failed, undici connect timeout on cause', error: fetchFailed(coded('UND_ERR_CONNECT_TIMEOUT')), reason: 'timeout' },
    { title: 'fetch failed, undici headers timeout on cause', error: fetchFailed(coded('UND_ERR_HEADERS_TIMEOUT')), reason: 'timeout' },
    { title: 'fetch failed, undici body timeout on cause', error: fetchFailed(coded('UND_ERR_BODY_TIMEOUT')), reason: 'timeout' },
    { title: 'a code two causes deep', error: fetchFailed(new Error('connect', { cause: coded('EHOSTUNREACH') })), reason: 'network' },
    {
      title: 'an AggregateError of the addresses tried, as the cause',
      error: fetchFailed(new AggregateError([coded('ECONNREFUSED'), coded('ENETUNREACH')], 'all addresses failed')),
      reason: 'network',
    },
    { title: 'AbortSignal.timeout (a DOMException named TimeoutError)', error: new DOMException('The operation was aborted due to timeout', 'TimeoutError'), reason: 'timeout' },
    { title: 'a TimeoutError as a cause', error: fetchFailed(named('TimeoutError')), reason: 'timeout' },
    { title: 'ETIMEDOUT', error: coded('ETIMEDOUT'), reason: 'timeout' },
    { title: 'the outermost recognised error wins', error: Object.assign(fetchFailed(coded('ECONNRESET')), { code: 'ETIMEDOUT' }), reason: 'timeout' },
    { title: 'fetch failed without a cause', error: new TypeError('fetch failed'), reason: 'provider_error' },
    { title: 'an unknown code on cause', error: fetchFailed(coded('ERR_TLS_CERT_ALTNAME_INVALID')), reason: 'provider_error' },
    { title: 'a numeric code (DOMException codes are numbers)', error: Object.assign(new Error('x'), { code: 23 }), reason: 'provider_error' },
    { title: 'a cause cycle', error: cyclic, reason: 'provider_error' },
    { title: 'a chain deeper than the bound', error: deep, reason: 'provider_error' },
    { title: 'a cause getter that throws', error: throwingGetter, reason: 'provider_error' },
    { title: 'a thrown string', error: 'ECONNREFUSED', reason: 'provider_error' },
    { title: 'undefined', error: undefined, reason: 'provider_error' },
    { title: 'a plain object with a code', error: { code: 'ENOTFOUND' }, reason: 'network' },
  ];
  for (const { title, error, reason } of table) {
    it(`${title} → ${reason}`, () => assert.equal(failureReasonOf(error), reason));
  }
});

describe('providerCall with the global fetch', () => {
  let session: TracingSession;
  const servers: Server[] = [];
  const sockets = new Set<Socket>();
  before(async () => {
    session = await startTracingSession('memory', { instrumentHttp: false });
  });
  after(async () => {
    for (const socket of sockets) socket.destroy();
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
    await session.stop();
  });

  async function listen(onSocket: (socket: Socket) => void): Promise<Server> {
    const server = createServer(onSocket);
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return server;
  }

  async function failedCall(url: string, signal?: AbortSignal): Promise<Record<string, unknown>> {
    const traceId = await context.with(ROOT_CONTEXT, () =>
      payments.create({ tradeNo: 'R-FETCH' }, async (flow) => {
        await assert.rejects(payments.providerCall('charge', () => fetch(url, { signal })));
        return flow.traceId;
      }),
    );
    const call = await session.waitForSpan((s) => s.traceId === traceId && s.name === 'payment.provider charge');
    assert.equal(call.status, 'ERROR');
    assert.equal(call.attributes['payment.outcome'], 'failed');
    return call.attributes;
  }

  it('a closed loopback port is a network failure', async () => {
    const server = await listen(() => {});
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const attributes = await failedCall(`http://127.0.0.1:${port}/charge`);
    assert.equal(attributes['payment.failure.reason'], 'network');
  });

  it('a provider that never answers, cut by AbortSignal.timeout, is a timeout', async () => {
    const server = await listen((socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    const { port } = server.address() as { port: number };
    const attributes = await failedCall(`http://127.0.0.1:${port}/charge`, AbortSignal.timeout(150));
    assert.equal(attributes['payment.failure.reason'], 'timeout');
  });
});
