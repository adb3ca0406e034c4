// Every published package, packed with `npm pack` (so the `files` allow-list is what is tested),
// installed into a throwaway consumer and loaded by a plain `node` child process — once from an
// ES module and once from a CommonJS module — without the source export condition. The built
// output must export exactly the names its source exports.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const BUILD_HINT = 'run `npm run build` at the repository root first';

interface Published {
  name: string;
  dir: string;
  /** Entry points a consumer can name: the package itself and its subpaths. */
  entries: string[];
  /** Module systems the package ships. */
  formats: ('esm' | 'cjs')[];
}

const PUBLISHED: Published[] = [
  {
    name: '@otel-checkout/semantic-conventions',
    dir: 'packages/semantic-conventions',
    entries: ['@otel-checkout/semantic-conventions', '@otel-checkout/semantic-conventions/incubating'],
    formats: ['esm', 'cjs'],
  },
  { name: '@otel-checkout/core', dir: 'packages/otel-checkout-core', entries: ['@otel-checkout/core'], formats: ['esm', 'cjs'] },
  { name: '@otel-checkout/web', dir: 'packages/otel-checkout-web', entries: ['@otel-checkout/web'], formats: ['esm', 'cjs'] },
  { name: '@otel-checkout/node', dir: 'packages/otel-checkout-node', entries: ['@otel-checkout/node'], formats: ['cjs'] },
];

/** Names and values a consumer relies on, checked on top of the source/build comparison. */
const KNOWN_EXPORTS: Record<string, Record<string, unknown>> = {
  '@otel-checkout/semantic-conventions': { ATTR_PAYMENT_TRADE_NO: 'payment.trade_no' },
  '@otel-checkout/semantic-conventions/incubating': { ATTR_PAYMENT_TRADE_NO: 'payment.trade_no' },
};

interface PackageJson {
  name: string;
  private?: boolean;
  files?: string[];
  main?: string;
  module?: string;
  types?: string;
  typesVersions?: Record<string, Record<string, string[]>>;
  exports?: unknown;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

function readPackageJson(dir: string): PackageJson {
  return JSON.parse(readFileSync(join(ROOT, dir, 'package.json'), 'utf8')) as PackageJson;
}

/** Every file path an `exports` map, `main`, `module` or `types` points at, except the in-repo source condition. */
function entryTargets(pkg: PackageJson): string[] {
  const targets = new Set<string>();
  const visit = (value: unknown, condition: string): void => {
    if (condition === '@otel-checkout/source') return;
    if (typeof value === 'string') targets.add(value.replace(/^\.\//, ''));
    else if (value !== null && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) visit(inner, key);
    }
  };
  visit(pkg.exports, '');
  for (const field of [pkg.main, pkg.module, pkg.types]) if (field !== undefined) visit(field, '');
  // The declarations the older module resolution (which ignores `exports`) finds.
  for (const paths of Object.values(pkg.typesVersions ?? {})) visit(paths, '');
  return [...targets];
}

function sourceFiles(dir: string): string[] {
  const found: string[] = [];
  const walk = (current: string): void => {
    for (const entry of readdirSync(current, { withFileTypes: true })) {
      const path = join(current, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) found.push(relative(join(dir, 'src'), path));
    }
  };
  walk(join(dir, 'src'));
  return found;
}

/** Fails with a clear instruction when the build output is missing or older than the sources' file list. */
function assertBuilt(published: Published): void {
  const dir = join(ROOT, published.dir);
  for (const format of published.formats) {
    const missing = sourceFiles(dir)
      .map((file) => join('build', format, file.replace(/\.ts$/, '.js')))
      .filter((file) => !existsSync(join(dir, file)));
    if (missing.length > 0) assert.fail(`${published.name}: build output missing (${missing.join(', ')}); ${BUILD_HINT}`);
  }
}

async function pack(destination: string): Promise<Map<string, { tarball: string; files: string[] }>> {
  const workspaces = PUBLISHED.flatMap((published) => ['-w', published.name]);
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--pack-destination', destination, ...workspaces], {
    cwd: ROOT,
    maxBuffer: 16 * 1024 * 1024,
  });
  const packed = JSON.parse(stdout) as { name: string; filename: string; files: { path: string }[] }[];
  return new Map(packed.map((entry) => [entry.name, { tarball: join(destination, entry.filename), files: entry.files.map((file) => file.path) }]));
}

/** The dependency is linked from the repository's install, as a package manager would have installed it. */
function linkExternal(nodeModules: string, dependency: string): boolean {
  const source = join(ROOT, 'node_modules', dependency);
  if (!existsSync(source)) return false;
  const target = join(nodeModules, dependency);
  if (existsSync(target)) return true;
  mkdirSync(dirname(target), { recursive: true });
  symlinkSync(source, target, 'dir');
  return true;
}

/**
 * A consumer directory holding `published` and its @otel-checkout dependencies unpacked from their
 * tarballs, and only their declared external dependencies linked: an undeclared import fails to load.
 */
async function installConsumer(
  consumerDir: string,
  published: Published,
  packed: Map<string, { tarball: string }>,
): Promise<void> {
  const nodeModules = join(consumerDir, 'node_modules');
  const pending = [published.name];
  const installed = new Set<string>();
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (installed.has(name)) continue;
    installed.add(name);
    const source = PUBLISHED.find((candidate) => candidate.name === name);
    assert.ok(source, `${name} is not a published package of this repository`);
    const target = join(nodeModules, name);
    mkdirSync(target, { recursive: true });
    await run('tar', ['-xzf', packed.get(name)!.tarball, '-C', target, '--strip-components=1']);
    const pkg = readPackageJson(source.dir);
    for (const dependency of Object.keys(pkg.dependencies ?? {})) {
      if (dependency.startsWith('@otel-checkout/')) pending.push(dependency);
      else assert.ok(linkExternal(nodeModules, dependency), `${name} depends on ${dependency}, which is not installed`);
    }
    for (const peer of Object.keys(pkg.peerDependencies ?? {})) {
      const optional = pkg.peerDependenciesMeta?.[peer]?.optional === true;
      assert.ok(linkExternal(nodeModules, peer) || optional, `${name} has the peer ${peer}, which is not installed`);
    }
  }
}

const ESM_CONSUMER = `
const entries = JSON.parse(process.argv[2]);
const result = {};
for (const entry of entries) {
  const module = await import(entry);
  result[entry] = { resolved: import.meta.resolve(entry), exports: Object.fromEntries(Object.entries(module).map(([k, v]) => [k, typeof v === 'string' ? v : typeof v])) };
}
process.stdout.write(JSON.stringify(result));
`;

const CJS_CONSUMER = `
const entries = JSON.parse(process.argv[2]);
const result = {};
for (const entry of entries) {
  const module = require(entry);
  result[entry] = { resolved: require.resolve(entry), exports: Object.fromEntries(Object.entries(module).map(([k, v]) => [k, typeof v === 'string' ? v : typeof v])) };
}
process.stdout.write(JSON.stringify(result));
`;

type LoadResult = Record<string, { resolved: string; exports: Record<string, unknown> }>;

async function load(consumerDir: string, script: string, entries: string[]): Promise<LoadResult> {
  // A clean environment: no source condition, no TypeScript loader inherited from the test runner.
  const env = { ...process.env, NODE_OPTIONS: '' };
  try {
    const { stdout } = await run(process.execPath, [script, JSON.stringify(entries)], { cwd: consumerDir, env });
    return JSON.parse(stdout) as LoadResult;
  } catch (error) {
    const { stderr } = error as { stderr?: string };
    throw new Error(`node ${script} failed to load ${entries.join(', ')}:\n${stderr ?? String(error)}`, { cause: error });
  }
}

/** What the source exports, as the test runner (with the source condition) sees it. */
async function sourceExports(entry: string): Promise<Record<string, unknown>> {
  const module = (await import(entry)) as Record<string, unknown>;
  return Object.fromEntries(Object.entries(module).map(([key, value]) => [key, typeof value === 'string' ? value : typeof value]));
}

describe('published packages load from their packed, built output', function () {
  this.timeout(120_000);
  let workDir: string;
  let packed: Map<string, { tarball: string; files: string[] }>;

  before(async function () {
    for (const published of PUBLISHED) assertBuilt(published);
    workDir = mkdtempSync(join(tmpdir(), 'otel-checkout-consumers-'));
    packed = await pack(workDir);
  });

  after(function () {
    if (workDir !== undefined) rmSync(workDir, { recursive: true, force: true });
  });

  it('covers every workspace that is not private', function () {
    const workspaces = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { workspaces: string[] }).workspaces;
    const dirs = workspaces.flatMap((pattern) =>
      pattern.endsWith('/*')
        ? readdirSync(join(ROOT, pattern.slice(0, -2)), { withFileTypes: true })
            .filter((entry) => entry.isDirectory() && existsSync(join(ROOT, pattern.slice(0, -2), entry.name, 'package.json')))
            .map((entry) => `${pattern.slice(0, -2)}/${entry.name}`)
        : [pattern],
    );
    const publishable = dirs
      .map((dir) => readPackageJson(dir))
      .filter((pkg) => pkg.private !== true)
      .map((pkg) => pkg.name)
      .sort();
    assert.deepStrictEqual(publishable, PUBLISHED.map((published) => published.name).sort());
  });

  for (const published of PUBLISHED) {
    describe(published.name, function () {
      it('packs every entry point and nothing from src/ or test/', function () {
        const files = packed.get(published.name)?.files ?? [];
        const missing = entryTargets(readPackageJson(published.dir)).filter((target) => !files.includes(target));
        assert.deepStrictEqual(missing, [], `entry points missing from the tarball (check "files"); ${BUILD_HINT}`);
        // Files named in the allow-list itself (README, LICENSE): npm skips a missing one silently.
        const named = (readPackageJson(published.dir).files ?? []).filter((entry) => !/[*?[]/.test(entry));
        assert.deepStrictEqual(named.filter((file) => !files.includes(file)), [], 'files named in "files" but not in the tarball');
        assert.deepStrictEqual(
          files.filter((file) => /^(src|test|scripts)\//.test(file) || file.endsWith('.tsbuildinfo')),
          [],
        );
        assert.ok(files.includes('package.json'));
      });

      // Both kinds of consumer for every package, whatever module systems it ships.
      for (const format of ['esm', 'cjs'] as const) {
        it(`${format === 'esm' ? 'import()s from an ES module' : 'require()s from a CommonJS module'} with the same exports as the source`, async function () {
          const consumerDir = join(workDir, `${published.name.replace('/', '+')}-${format}`);
          await installConsumer(consumerDir, published, packed);
          const script = format === 'esm' ? 'consumer.mjs' : 'consumer.cjs';
          writeFileSync(join(consumerDir, script), format === 'esm' ? ESM_CONSUMER : CJS_CONSUMER);
          const loaded = await load(consumerDir, script, published.entries);
          // Node-only packages ship CommonJS alone; an ES module consumer reaches it through the same files.
          const buildFolder = published.formats.includes('esm') ? format : 'cjs';
          for (const entry of published.entries) {
            const { resolved, exports: loadedExports } = loaded[entry];
            // An ES module importing CommonJS also gets the whole `module.exports` as `default`, and
            // TypeScript's `__esModule` marker as a name.
            const { default: whole, __esModule: marker, ...named } = loadedExports;
            const exports = buildFolder === format ? loadedExports : named;
            if (buildFolder !== format) {
              assert.equal(whole, 'object', `${entry}: its CommonJS exports as the default export`);
              assert.equal(marker, 'boolean');
            }
            const resolvedPath = resolved.startsWith('file:') ? fileURLToPath(resolved) : resolved;
            assert.ok(
              resolvedPath.startsWith(join(workDir, '')) && resolvedPath.includes(`${join('build', buildFolder)}/`),
              `${entry} resolved to ${resolvedPath}, expected the unpacked build/${buildFolder} output`,
            );
            assert.deepStrictEqual(exports, await sourceExports(entry), `${entry}: built ${format} exports differ from the source; ${BUILD_HINT}`);
            for (const [name, value] of Object.entries(KNOWN_EXPORTS[entry] ?? {})) assert.equal(exports[name], value, `${entry} exports ${name}`);
          }
        });
      }
    });
  }
});
