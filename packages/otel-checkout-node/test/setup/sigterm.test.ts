import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { startOtlpReceiver } from '@otel-checkout/test-support';

describe('shutdownOnSigterm', () => {
  it('with SIGTERM listeners of its own, the app decides: the spans are flushed and the app exits as it chooses', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const child = spawn(process.execPath, ['--conditions=@otel-checkout/source', '--import=tsx', join(__dirname, 'sigterm-app.ts'), receiver.tracesUrl, 'own-listener'], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise<void>((resolve) => child.stdout.on('data', (chunk: Buffer) => String(chunk).includes('ready') && resolve()));
      child.kill('SIGTERM');
      const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
      assert.deepEqual([code, signal], [3, null], "the app's own listener ended it, not the signal raised again");
      const span = await receiver.waitForSpan((s) => s.name === 'payment.create');
      assert.equal(span.attributes['payment.trade_no'], 'SIGTERM-1');
    } finally {
      await receiver.close();
    }
  });

  it('flushes queued spans on SIGTERM, then the process terminates as the signal intends', async () => {
    const receiver = await startOtlpReceiver();
    try {
      const child = spawn(process.execPath, ['--conditions=@otel-checkout/source', '--import=tsx', join(__dirname, 'sigterm-app.ts'), receiver.tracesUrl], {
        stdio: ['ignore', 'pipe', 'inherit'],
      });
      await new Promise<void>((resolve) => child.stdout.on('data', (chunk: Buffer) => String(chunk).includes('ready') && resolve()));
      assert.equal(receiver.spans.length, 0, 'the export delay is a minute: nothing sent before the signal');
      child.kill('SIGTERM');
      const [code, signal] = (await once(child, 'exit')) as [number | null, string | null];
      assert.equal(signal, 'SIGTERM');
      assert.equal(code, null);
      const span = await receiver.waitForSpan((s) => s.name === 'payment.create');
      assert.equal(span.attributes['payment.trade_no'], 'SIGTERM-1');
    } finally {
      await receiver.close();
    }
  });
});
