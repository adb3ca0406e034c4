import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

describe('a flow store whose close fails at shutdown', () => {
  for (const mode of ['lean', 'coexisting', 'disabled'] as const) {
    it(`${mode}: shutdown() resolves and says once that it failed, naming the error's class`, async () => {
      const script = join(__dirname, 'fixtures', 'store-close-fails.ts');
      const { stdout } = await promisify(execFile)(process.execPath, ['--conditions=@otel-checkout/source', '--import=tsx', script, mode], { timeout: 30_000 });
      const report = JSON.parse(stdout) as { mode: string; said: string[] };
      assert.equal(report.mode, mode);
      const failed = report.said.filter((line) => line.includes('shutdown failed'));
      assert.equal(failed.length, 1, report.said.join('\n'));
      assert.match(failed[0], /StoreClosingError/);
    });
  }
});
