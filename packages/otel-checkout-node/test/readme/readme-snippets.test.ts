import * as assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { typeCheckSnippets, typeScriptBlocks } from '@otel-checkout/test-support/readme-snippets';
import ts from 'typescript';

const PACKAGE_DIR = resolve(__dirname, '..', '..');
const README = join(PACKAGE_DIR, 'README.md');

/**
 * What the snippets leave to the application (its own functions and objects), declared once
 * for all of them. Everything else a snippet uses it imports, from the real packages.
 */
const PRELUDE = `
declare function createPayment(body: unknown): Promise<unknown>;
declare const extract: import('@otel-checkout/node').PaymentExtractor;
declare const bank: { createPayment(urls: { returnUrl: string; notifyUrl: string; metadata: string }): Promise<unknown> };
`;

describe('README snippets', () => {
  it('type-check strictly against the package types, each as its own module', function () {
    // One program for every snippet: loading the frameworks' and the SDK's types takes seconds.
    this.timeout(60_000);
    const snippets = typeScriptBlocks(readFileSync(README, 'utf8'));
    assert.ok(snippets.length >= 8, `only ${snippets.length} ts blocks found`);
    const problems = typeCheckSnippets(snippets, {
      dir: __dirname,
      prelude: PRELUDE,
      // NestJS's decorators are TypeScript's experimental ones, as a Nest application compiles them.
      options: { target: ts.ScriptTarget.ES2022, lib: ['lib.es2022.d.ts'], types: ['node'], experimentalDecorators: true },
    });
    assert.deepEqual(problems, []);
  });
});

/** The block of the README whose text includes `marker`. */
function blockWith(marker: string): string {
  const blocks = typeScriptBlocks(readFileSync(README, 'utf8')).filter((block) => block.code.includes(marker));
  assert.equal(blocks.length, 1, `one ts block with ${marker}`);
  return blocks[0].code;
}

describe('the README snippet for your own SDK, run as printed', () => {
  it('forwards no card number or authorization token a client put in tracestate, nor an oversize baggage header, to the payment provider', async function () {
    this.timeout(30_000);
    const dir = mkdtempSync(join(tmpdir(), 'otc-readme-'));
    try {
      const snippet = join(dir, 'tracing.ts');
      writeFileSync(snippet, blockWith('new NodeSDK('));
      // The snippet lives outside the repository: it finds the packages as an application would, installed.
      const { stdout } = await promisify(execFile)(
        process.execPath,
        ['--conditions=@otel-checkout/source', '--import=tsx', join(__dirname, 'own-sdk-snippet-app.ts'), snippet],
        // Its exporter sends nowhere: what counts here is what the provider received.
        { timeout: 30_000, env: { ...process.env, NODE_PATH: join(PACKAGE_DIR, '..', '..', 'node_modules'), OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9' } },
      );
      const report = JSON.parse(stdout) as { received: { tracestate?: string; baggage?: string }[]; health: Record<string, number>; warnings: string[] };
      assert.deepEqual(report.received, [{ tracestate: 'good=1' }, { tracestate: 'ok=1' }, {}]);
      assert.deepEqual(report.health, { malformedTracestate: 2, oversizeHeaders: 1 });
      assert.deepEqual(report.warnings.filter((w) => w.includes('no RedactionSpanProcessor')), []);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
