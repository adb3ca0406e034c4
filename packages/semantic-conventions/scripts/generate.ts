/**
 * Validates `model/*.yaml` and writes the generated files: `src/stable.ts`,
 * `src/incubating.ts`, `src/index.ts`, `src/index-incubating.ts` and `docs/registry.md`.
 * Nothing is written when the model is invalid.
 *
 * As a script (`npm run generate`): writes into the package; `--out <dir>` writes the same
 * files under another directory instead.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ModelValidationError } from './errors.js';
import type { ModelSource } from './model.js';
import { renderMarkdown } from './render-markdown.js';
import { renderTypeScript } from './render-typescript.js';
import { loadModelSources, PACKAGE_ROOT, validateModel } from './validate.js';

/** Every generated file, keyed by its path relative to the package root. */
export function renderAll(sources: readonly ModelSource[]): Map<string, string> {
  const registry = validateModel(sources);
  const files = renderTypeScript(registry);
  files.set('docs/registry.md', renderMarkdown(registry));
  return files;
}

/** Validates the model and writes every generated file under `outRoot`; returns the paths written. */
export function generate(outRoot: string = PACKAGE_ROOT, sources: readonly ModelSource[] = loadModelSources()): string[] {
  const files = renderAll(sources);
  const written: string[] = [];
  for (const [relativePath, text] of files) {
    const path = join(outRoot, relativePath);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, text);
    written.push(relativePath);
  }
  return written;
}

function main(): void {
  const outIndex = process.argv.indexOf('--out');
  const outRoot = outIndex >= 0 && process.argv[outIndex + 1] ? resolve(process.argv[outIndex + 1]) : PACKAGE_ROOT;
  try {
    const written = generate(outRoot);
    process.stdout.write(`wrote ${written.join(', ')}\n`);
  } catch (error) {
    if (error instanceof ModelValidationError) {
      process.stderr.write(`${error.message}\nNothing was written.\n`);
      process.exitCode = 1;
      return;
    }
    throw error;
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main();
}
