import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';

/** The two page scripts, bundled for the browser. */
export interface PageBundles {
  checkout: string;
  return: string;
}

/** Bundles `page/checkout-page.ts` and `page/return-page.ts` with `@otel-checkout/web`, as an application's bundler would. */
export async function bundlePages(): Promise<PageBundles> {
  const result = await build({
    entryPoints: { checkout: entry('checkout-page.ts'), return: entry('return-page.ts') },
    bundle: true,
    write: false,
    outdir: 'out',
    format: 'iife',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    // Inside this repository the packages resolve to their TypeScript sources; an application
    // outside it leaves `conditions` out and gets the published ESM builds.
    conditions: ['@otel-checkout/source', 'module'],
    logLevel: 'silent',
  });
  const named = (name: string) => result.outputFiles.find((file) => file.path.endsWith(`${name}.js`))?.text ?? '';
  return { checkout: named('checkout'), return: named('return') };
}

function entry(file: string): string {
  return fileURLToPath(new URL(`./page/${file}`, import.meta.url));
}
