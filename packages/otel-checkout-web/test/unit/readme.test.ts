import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import ts from 'typescript';

const packageDir = fileURLToPath(new URL('../..', import.meta.url));
const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
/** The README's TypeScript code blocks, in order (the first is the Quick start). */
const blocks = [...readme.matchAll(/^```ts\n([\s\S]*?)^```$/gm)].map((match) => match[1]);

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

/**
 * Type-checks `files` (virtual, placed in the package so its imports resolve as an
 * application's would) with `strict` and bundler resolution; returns the diagnostics.
 */
function typeCheck(files: Record<string, string>): string[] {
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2020,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    // The package from its source, as every other test here takes it (no stale build).
    customConditions: ['@otel-checkout/source'],
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts', 'lib.dom.iterable.d.ts'],
    types: [],
    skipLibCheck: true,
  };
  const host = ts.createCompilerHost(options);
  const real = { getSourceFile: host.getSourceFile.bind(host), fileExists: host.fileExists.bind(host), readFile: host.readFile.bind(host) };
  host.getSourceFile = (name, language, ...rest) => (name in files ? ts.createSourceFile(name, files[name], language) : real.getSourceFile(name, language, ...rest));
  host.fileExists = (name) => name in files || real.fileExists(name);
  host.readFile = (name) => files[name] ?? real.readFile(name);
  const program = ts.createProgram(Object.keys(files), options, host);
  return ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file === undefined || d.file.fileName in files)
    .map((d) => `${d.file === undefined ? '' : `${d.file.fileName.slice(packageDir.length)}:${d.file.getLineAndCharacterOfPosition(d.start ?? 0).line + 1}: `}${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
}

describe('README code', function () {
  this.timeout(60_000);

  it('has a Quick start in TypeScript', () => {
    assert.ok(blocks.length >= 1);
    assert.match(blocks[0], /startCheckoutTracing\(/);
  });

  it('type-checks with strict, as a bundler-resolved application compiles it', () => {
    const files: Record<string, string> = { [join(packageDir, 'readme-page-globals.d.ts')]: PAGE_GLOBALS };
    blocks.forEach((code, index) => (files[join(packageDir, `readme-block-${index}.ts`)] = code));
    assert.deepEqual(typeCheck(files), []);
  });

  it('bundles the Quick start with the settings the README states (esbuild, ESM, es2020, minified)', async () => {
    const result = await build({
      stdin: { contents: blocks[0], resolveDir: packageDir, sourcefile: 'quick-start.ts', loader: 'ts' },
      bundle: true,
      minify: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2020',
      conditions: ['@otel-checkout/source', 'module'],
      write: false,
      logLevel: 'silent',
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
