// Bundle sizes of @otel-checkout/web against a bare OpenTelemetry web setup: the entries, the
// esbuild settings and the measurement, shared by the size test (which enforces the budget)
// and bench/web-size (which reports these sizes and more).
import { build } from 'esbuild';
import type { BuildOptions, Metafile, Plugin } from 'esbuild';
import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import * as web from '@otel-checkout/web';

const repoRoot = fileURLToPath(new URL('../../../..', import.meta.url));
/** Where relative imports in the entries resolve from, so they can name the package's own modules. */
const webSrc = fileURLToPath(new URL('../../src', import.meta.url));

/** How an application would bundle the package: esbuild, bundled, minified, ESM for es2020 browsers. */
export const bundleOptions = {
  bundle: true,
  minify: true,
  format: 'esm',
  platform: 'browser',
  target: 'es2020',
  // Listing a condition replaces esbuild's defaults, so `module` (ESM builds of OTel) is named too.
  conditions: ['@otel-checkout/source', 'module'],
  write: false,
  logLevel: 'silent',
} satisfies BuildOptions;

export interface Measured {
  minified: number;
  gzip: number;
  inputs: number;
  zoneJs: boolean;
  /** Package name to the directories its files were taken from, for packages taken from more than one. */
  duplicates: Record<string, string[]>;
}

/** Which package an input file belongs to, and from which directory it was taken. */
function packageOf(path: string): { name: string; dir: string } | undefined {
  const normalized = path.replace(/\\/g, '/');
  const nm = normalized.lastIndexOf('node_modules/');
  if (nm >= 0) {
    const rest = normalized.slice(nm + 'node_modules/'.length).split('/');
    const name = rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
    return { name, dir: normalized.slice(0, nm) + 'node_modules/' + name };
  }
  const workspace = /packages\/([^/]+)\/(src|build\/esm|build\/cjs)\//.exec(normalized);
  if (workspace !== null) return { name: `workspace:${workspace[1]}`, dir: `${workspace[1]}/${workspace[2]}` };
  return undefined;
}

function duplicatesIn(metafile: Metafile): Record<string, string[]> {
  const dirs = new Map<string, Set<string>>();
  for (const input of Object.keys(metafile.inputs)) {
    const owner = packageOf(input);
    if (owner === undefined) continue;
    if (!dirs.has(owner.name)) dirs.set(owner.name, new Set());
    dirs.get(owner.name)!.add(owner.dir);
  }
  const out: Record<string, string[]> = {};
  for (const [name, set] of dirs) if (set.size > 1) out[name] = [...set];
  return out;
}

/** Replaces whole source files by stubs (to show what one part of the package costs). */
function stubPlugin(stubs: Record<string, string>): Plugin {
  const byPath = new Map(Object.entries(stubs).map(([path, contents]) => [resolve(repoRoot, path), contents]));
  return {
    name: 'stub',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, (args) => {
        const contents = byPath.get(args.path);
        return contents === undefined ? undefined : { contents, loader: 'js' };
      });
    },
  };
}

/**
 * Bundles one entry and gzips it at level 9. `stubs` maps source files, relative to the
 * repository root, to the code that replaces them.
 */
export async function measure(name: string, contents: string, stubs: Record<string, string> = {}): Promise<Measured> {
  const result = await build({
    ...bundleOptions,
    plugins: [stubPlugin(stubs)],
    stdin: { contents, resolveDir: webSrc, sourcefile: `${name}.ts`, loader: 'ts' },
    metafile: true,
  });
  const code = result.outputFiles[0].contents;
  const inputs = Object.keys(result.metafile.inputs);
  return {
    minified: code.byteLength,
    gzip: gzipSync(code, { level: 9 }).byteLength,
    inputs: inputs.length,
    zoneJs: inputs.some((i) => /zone\.js/.test(i)),
    duplicates: duplicatesIn(result.metafile),
  };
}

/** Every export of the package: the whole-package entry keeps all of them, so none is tree-shaken. */
export const allExports = Object.keys(web).sort();

export const entries = {
  wholePackage: `export { ${allExports.join(', ')} } from '@otel-checkout/web';`,
  typicalCheckout: `
    import { startCheckoutTracing, checkout } from '@otel-checkout/web';
    startCheckoutTracing({ serviceName: 'shop', release: '1.0.0', endpoint: 'https://otel.example.com/v1/traces', propagateTo: ['https://api.example.com'] });
    if (location.pathname === '/return') {
      void checkout.resume({ verifyUrl: '/verify' }).then((flow) => flow.poll(() => fetch('/status').then((r) => r.json()), (s) => s.status));
    } else {
      checkout.onClick(document.getElementById('pay')!, () => ({ method: 'card', amount: 10, currency: 'EUR' }), (flow) => {
        const sdk = flow.wrapSdk((window as any).BankSdk, { name: 'bank', version: '1' });
        void sdk.pay().then((r: { url: string }) => flow.redirect(r.url));
      });
    }`,
  bareOtel: `
    import { WebTracerProvider } from '@opentelemetry/sdk-trace-web';
    import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
    import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
    import { FetchInstrumentation } from '@opentelemetry/instrumentation-fetch';
    import { registerInstrumentations } from '@opentelemetry/instrumentation';
    const provider = new WebTracerProvider({ spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: 'https://otel.example.com/v1/traces' }))] });
    provider.register();
    registerInstrumentations({ instrumentations: [new FetchInstrumentation({ propagateTraceHeaderCorsUrls: [/api\\.example\\.com/] })] });
    export { provider };`,
  packagePlusFetchInstrumentation: `
    export { ${allExports.join(', ')} } from '@otel-checkout/web';
    export { FetchInstrumentation } from '@opentelemetry/instrumentation-fetch';`,
  ownPropagation: `export { installPropagation } from './propagation/patch.js';`,
  ownOtlpJson: `export { encodeSpan, envelope } from './export/otlp-json.js';`,
  otlpTransformerJson: `export { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';`,
  sdkTraceWebOnly: `
    import { WebTracerProvider } from '@opentelemetry/sdk-trace-web';
    import { ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
    import { resourceFromAttributes } from '@opentelemetry/resources';
    export const p = new WebTracerProvider({ resource: resourceFromAttributes({}), sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(1) }) });`,
};
