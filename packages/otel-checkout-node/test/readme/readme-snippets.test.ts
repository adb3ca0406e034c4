import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
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
      options: { target: ts.ScriptTarget.ES2022, lib: ['lib.es2022.d.ts'], types: ['node'] },
    });
    assert.deepEqual(problems, []);
  });
});
