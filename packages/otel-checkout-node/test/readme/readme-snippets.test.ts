import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';

const PACKAGE_DIR = resolve(__dirname, '..', '..');
const README = join(PACKAGE_DIR, 'README.md');

/**
 * What the snippets leave to the application (its own functions and objects), declared once
 * for all of them. Everything else a snippet uses it imports, from the real packages.
 */
const PRELUDE = `
declare function createPayment(body: unknown): Promise<unknown>;
declare function bodyParser(): import('koa').Middleware;
declare const extract: import('@otel-checkout/node').PaymentExtractor;
declare const bank: { createPayment(urls: { returnUrl: string; notifyUrl: string; metadata: string }): Promise<unknown> };
`;

interface Snippet {
  /** Line of the README where the block's code starts. */
  line: number;
  code: string;
}

/** Every ```ts block of a markdown text. */
function tsBlocks(markdown: string): Snippet[] {
  const snippets: Snippet[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    if (lines[i].trim() !== '```ts') continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end].trim() !== '```') end += 1;
    snippets.push({ line: start + 1, code: lines.slice(start, end).join('\n') });
    i = end;
  }
  return snippets;
}

describe('README snippets', () => {
  it('type-check strictly against the package types, each as its own module', function () {
    // One program for every snippet: loading the frameworks' and the SDK's types takes seconds.
    this.timeout(60_000);
    const snippets = tsBlocks(readFileSync(README, 'utf8'));
    assert.ok(snippets.length >= 8, `only ${snippets.length} ts blocks found`);
    // Served from memory at paths inside the package, so imports resolve as in an application
    // of this repository: '@otel-checkout/node' to its sources, frameworks from node_modules.
    const files = new Map<string, { snippet?: Snippet; text: string }>();
    snippets.forEach((snippet, index) => {
      // `export {}` makes each block a module: its names are its own, top-level await allowed.
      files.set(join(__dirname, `readme-snippet-${index + 1}.ts`), { snippet, text: `${snippet.code}\nexport {};\n` });
    });
    const prelude = join(__dirname, 'readme-prelude.d.ts');
    files.set(prelude, { text: PRELUDE });
    const options: ts.CompilerOptions = {
      strict: true,
      noEmit: true,
      target: ts.ScriptTarget.ES2022,
      module: ts.ModuleKind.ESNext,
      moduleResolution: ts.ModuleResolutionKind.Bundler,
      customConditions: ['@otel-checkout/source'],
      esModuleInterop: true,
      skipLibCheck: true,
      lib: ['lib.es2022.d.ts'],
      types: ['node'],
    };
    const host = ts.createCompilerHost(options);
    const fileExists = host.fileExists.bind(host);
    const readFile = host.readFile.bind(host);
    const getSourceFile = host.getSourceFile.bind(host);
    host.fileExists = (name) => files.has(name) || fileExists(name);
    host.readFile = (name) => files.get(name)?.text ?? readFile(name);
    host.getSourceFile = (name, languageVersion, ...rest) => {
      const file = files.get(name);
      return file ? ts.createSourceFile(name, file.text, languageVersion, true) : getSourceFile(name, languageVersion, ...rest);
    };
    const program = ts.createProgram([...files.keys()], options, host);
    // Only the snippets are checked (the package's sources have their own typecheck): far faster.
    const problems = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()]
      .concat(
        [...files.keys()].flatMap((name) => {
          const file = program.getSourceFile(name);
          return file ? [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)] : [];
        }),
      )
      .map((diagnostic) => {
        const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
        const file = diagnostic.file;
        const snippet = file ? files.get(file.fileName)?.snippet : undefined;
        if (!file || diagnostic.start === undefined) return message;
        const { line } = file.getLineAndCharacterOfPosition(diagnostic.start);
        return snippet ? `README.md:${snippet.line + line}: TS${diagnostic.code} ${message}` : `${file.fileName}:${line + 1}: ${message}`;
      });
    assert.deepEqual(problems, []);
  });
});
