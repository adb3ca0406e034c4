import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { startOtlpReceiver } from '@otel-checkout/test-support';
import type { OtlpReceiver } from '@otel-checkout/test-support';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const EXEC_ARGV = ['--conditions=@otel-checkout/source', '--import=tsx'];

function exited(child: ChildProcess): Promise<number | null> {
  return child.exitCode !== null || child.signalCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

describe('a flow across the redirect, on the wire', function () {
  this.timeout(60_000);
  let receiver: OtlpReceiver;
  let shop: ChildProcess;
  let shopUrl: string;

  before(async () => {
    receiver = await startOtlpReceiver();
    shop = fork(join(FIXTURES, 'shop-server.ts'), [receiver.tracesUrl], { execArgv: EXEC_ARGV, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const { port } = await new Promise<{ port: number }>((resolve, reject) => {
      shop.once('message', (m) => resolve(m as { port: number }));
      shop.once('exit', (code) => reject(new Error(`shop exited ${code}`)));
    });
    shopUrl = `http://127.0.0.1:${port}`;
  });
  after(async () => {
    shop?.kill('SIGTERM');
    if (shop) await exited(shop);
    await receiver?.close();
  });

  it('create, stalled and a late callback from the provider process share the browser\'s trace with payment.create as parent', async () => {
    const traceId = randomBytes(16).toString('hex');
    const browserSpanId = randomBytes(8).toString('hex');
    const response = await fetch(`${shopUrl}/pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${traceId}-${browserSpanId}-01` },
      body: JSON.stringify({ tradeNo: 'E2E-1' }),
    });
    const { notifyUrl, returnUrl } = (await response.json()) as { notifyUrl: string; returnUrl: string };
    assert.match(notifyUrl, /\/notify\?src=slowbank&otc_flow=[A-Za-z0-9_-]+$/);
    assert.match(returnUrl, /^https:\/\/shop\.example\/return\?otc_flow=/);

    const create = await receiver.waitForSpan((s) => s.name === 'payment.create' && s.attributes['payment.trade_no'] === 'E2E-1');
    assert.equal(create.traceId, traceId, 'the create span continues the browser\'s trace');
    const createServer = receiver.spans.find((s) => s.spanId === create.parentSpanId);
    assert.ok(createServer);
    assert.equal(createServer.kindName, 'SERVER');
    assert.equal(createServer.parentSpanId, browserSpanId);

    // No callback within the one-second deadline: the sweeper declares the flow stalled.
    const stalled = await receiver.waitForSpan((s) => s.name === 'payment.callback.stalled' && s.attributes['payment.trade_no'] === 'E2E-1');
    assert.equal(stalled.traceId, traceId);
    assert.equal(stalled.parentSpanId, create.spanId);
    assert.equal(stalled.status.codeName, 'ERROR');
    assert.equal(stalled.attributes['payment.outcome'], 'stalled');
    assert.equal(stalled.attributes['payment.method'], 'bank_transfer');
    assert.ok(stalled.startTimeUnixNano >= create.startTimeUnixNano && stalled.startTimeUnixNano <= create.endTimeUnixNano, 'starts when the redirect was issued');

    // Then the bank's notification arrives, from another process, with the token in the notify URL.
    const provider = fork(join(FIXTURES, 'provider.ts'), [notifyUrl, 'E2E-1', 'TRADE_SUCCESS'], { execArgv: EXEC_ARGV, stdio: 'inherit' });
    assert.equal(await exited(provider), 0, 'the shop answered the provider "success"');

    const callback = await receiver.waitForSpan((s) => s.name === 'payment.callback');
    assert.equal(callback.traceId, traceId);
    assert.equal(callback.parentSpanId, create.spanId);
    assert.equal(callback.kindName, 'SERVER');
    assert.equal(callback.attributes['payment.callback.correlation'], 'token_query');
    assert.equal(callback.attributes['payment.callback.late'], true);
    assert.equal(callback.attributes['payment.outcome'], 'succeeded');
    assert.equal(callback.attributes['payment.provider.status'], 'TRADE_SUCCESS');
    assert.equal(callback.attributes['payment.trade_no'], 'E2E-1');
    assert.ok((callback.attributes['payment.callback.delay'] as number) >= 1);
    assert.equal(callback.resource.attributes['service.version'], '2.0.0');

    // instrumentation-http's server span of the callback request sits in a trace of its own; the callback links to it.
    assert.equal(callback.links.length, 1);
    const httpSpan = await receiver.waitForSpan((s) => s.spanId === callback.links[0].spanId);
    assert.equal(httpSpan.kindName, 'SERVER');
    assert.notEqual(httpSpan.traceId, traceId);

    // No token or signature leaves the process.
    const token = new URL(notifyUrl).searchParams.get('otc_flow')!;
    for (const request of receiver.requests) assert.equal(Buffer.from(request.body).includes(token), false, 'the flow token is not exported');
  });
});
