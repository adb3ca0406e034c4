import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { typeCheckSnippets, typeScriptBlocks } from '@otel-checkout/test-support/readme-snippets';
import ts from 'typescript';
import { bundleOptions } from '../harness/bundle-size.js';

const packageDir = fileURLToPath(new URL('../..', import.meta.url));
const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
/** The README's TypeScript code blocks, in order (the first is the Quick start). */
const snippets = typeScriptBlocks(readme);
const blocks = snippets.map((snippet) => snippet.code);

/** What the README's snippets take from the page around them, as an application would have it. */
const PAGE_GLOBALS = `
interface AcmePaySdk {
  version: string;
  createPayment(order: unknown): Promise<{ tradeNo: string; bankUrl: string }>;
}
interface Window { AcmePay: AcmePaySdk }
declare const user: { id: string };
declare const payButton: HTMLButtonElement;
declare const order: { id: string };
`;

describe('README code', function () {
  this.timeout(60_000);

  it('has a Quick start in TypeScript', () => {
    assert.ok(blocks.length >= 1);
    assert.match(blocks[0], /startCheckoutTracing\(/);
  });

  it('type-checks with strict, as a bundler-resolved application compiles it', () => {
    const problems = typeCheckSnippets(snippets, {
      dir: packageDir,
      prelude: PAGE_GLOBALS,
      options: { target: ts.ScriptTarget.ES2020, lib: ['lib.es2022.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'], types: [] },
    });
    assert.deepEqual(problems, []);
  });

  it('bundles the Quick start with the settings the README states (esbuild, ESM, es2020, minified)', async () => {
    const result = await build({
      ...bundleOptions,
      stdin: { contents: blocks[0], resolveDir: packageDir, sourcefile: 'quick-start.ts', loader: 'ts' },
    });
    assert.deepEqual(result.errors, []);
    assert.ok(result.outputFiles[0].text.length > 0);
  });

  it('passes amounts as the registry defines them: integers in minor units', () => {
    for (const block of blocks) {
      for (const [, amount] of block.matchAll(/amount: ([^,}\s]+)/g)) assert.ok(Number.isSafeInteger(Number(amount)), `amount: ${amount}`);
    }
  });
});
