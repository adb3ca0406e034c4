import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

let cached: Promise<string> | undefined;

/** The test page script: the library and its dependencies bundled from source, as an application would. */
export function pageBundle(): Promise<string> {
  cached ??= build({
    entryPoints: [fileURLToPath(new URL('../pages/entry.ts', import.meta.url))],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    // Naming a condition drops esbuild's default `module`, which selects OTel's ESM builds as an app's bundler would.
    conditions: ['@otel-checkout/source', 'module'],
    logLevel: 'silent',
  }).then((result) => result.outputFiles[0].text);
  return cached;
}
