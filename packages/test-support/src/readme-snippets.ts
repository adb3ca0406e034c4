import { join } from 'node:path';
import ts from 'typescript';

/** One fenced code block of a markdown text. */
export interface CodeBlock {
  /** Line of the markdown where the block's code starts (1-based). */
  line: number;
  code: string;
}

/** Every ```ts block of a markdown text, in order. */
export function typeScriptBlocks(markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i += 1) {
    if (lines[i].trim() !== '```ts') continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && lines[end].trim() !== '```') end += 1;
    blocks.push({ line: start + 1, code: lines.slice(start, end).join('\n') });
    i = end;
  }
  return blocks;
}

/** What a README check needs besides its blocks. */
export interface SnippetCheck {
  /** A directory inside the package, so imports resolve as in an application of this repository. */
  dir: string;
  /** Declarations of what the snippets leave to the application (its own objects and functions). */
  prelude: string;
  /** Target, `lib` and `types` of the application the snippets stand for. */
  options: Pick<ts.CompilerOptions, 'target' | 'lib' | 'types'> & ts.CompilerOptions;
  /** How problems name the markdown file. Default `README.md`. */
  markdownName?: string;
}

/**
 * Type-checks each block as its own module (its names its own, top-level await allowed) with
 * `strict` and bundler resolution, the packages taken from their sources. The files are served
 * from memory; only they are checked (the packages have their own type check). Returns the
 * problems as `README.md:<line>: TS<code> <message>`, none when every block compiles.
 */
export function typeCheckSnippets(blocks: readonly CodeBlock[], check: SnippetCheck): string[] {
  const files = new Map<string, { block?: CodeBlock; text: string }>();
  blocks.forEach((block, index) => files.set(join(check.dir, `readme-snippet-${index + 1}.ts`), { block, text: `${block.code}\nexport {};\n` }));
  files.set(join(check.dir, 'readme-prelude.d.ts'), { text: check.prelude });
  const options: ts.CompilerOptions = {
    strict: true,
    noEmit: true,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    customConditions: ['@otel-checkout/source'],
    esModuleInterop: true,
    skipLibCheck: true,
    ...check.options,
  };
  const host = ts.createCompilerHost(options);
  const real = { fileExists: host.fileExists.bind(host), readFile: host.readFile.bind(host), getSourceFile: host.getSourceFile.bind(host) };
  host.fileExists = (name) => files.has(name) || real.fileExists(name);
  host.readFile = (name) => files.get(name)?.text ?? real.readFile(name);
  host.getSourceFile = (name, languageVersion, ...rest) => {
    const file = files.get(name);
    return file ? ts.createSourceFile(name, file.text, languageVersion, true) : real.getSourceFile(name, languageVersion, ...rest);
  };
  const program = ts.createProgram([...files.keys()], options, host);
  const markdown = check.markdownName ?? 'README.md';
  return [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()]
    .concat(
      [...files.keys()].flatMap((name) => {
        const file = program.getSourceFile(name);
        return file ? [...program.getSyntacticDiagnostics(file), ...program.getSemanticDiagnostics(file)] : [];
      }),
    )
    .map((diagnostic) => {
      const message = ts.flattenDiagnosticMessageText(diagnostic.messageText, '\n');
      const file = diagnostic.file;
      if (!file || diagnostic.start === undefined) return message;
      const { line } = file.getLineAndCharacterOfPosition(diagnostic.start);
      const block = files.get(file.fileName)?.block;
      return block ? `${markdown}:${block.line + line}: TS${diagnostic.code} ${message}` : `${file.fileName}:${line + 1}: ${message}`;
    });
}
