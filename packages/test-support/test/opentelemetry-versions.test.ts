// One version of every OpenTelemetry package, exactly pinned, with the API as a peer of the
// libraries. Two copies of @opentelemetry/core or sdk-trace-base mean two span processors
// registries and two context managers: spans silently go missing. This is the trap of
// sdk-trace-web 2.12.0 pinning core 2.12.0 exactly while some 0.223.x packages pin 2.12.1.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

interface LockEntry {
  version?: string;
  link?: boolean;
}

interface Manifest {
  name?: string;
  private?: boolean;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  overrides?: Record<string, unknown>;
  workspaces?: string[];
}

/** Packages that must exist in one version only and be pinned exactly. */
function isTracked(name: string): boolean {
  return name.startsWith('@opentelemetry/') || name === '@fastify/otel';
}

const EXACT_VERSION = /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/;

/**
 * Second copies installed on purpose, each only for the fixture that holds it: the API version
 * the node package's peer range admits beyond the one the repository builds on, which that
 * fixture's test gives a consumer as its only copy.
 */
const DELIBERATE_COPIES = new Set(['fixtures/opentelemetry-api-1.10/node_modules/@opentelemetry/api']);

/** "name: 2.12.0 (node_modules/…), 2.12.1 (node_modules/…/node_modules/…)" for every tracked package installed twice. */
export function duplicateVersions(lockPackages: Record<string, LockEntry>): string[] {
  const byName = new Map<string, Map<string, string[]>>();
  for (const [path, entry] of Object.entries(lockPackages)) {
    const at = path.lastIndexOf('node_modules/');
    if (at < 0 || entry.link === true || entry.version === undefined || DELIBERATE_COPIES.has(path)) continue;
    const name = path.slice(at + 'node_modules/'.length);
    if (!isTracked(name)) continue;
    const versions = byName.get(name) ?? new Map<string, string[]>();
    versions.set(entry.version, [...(versions.get(entry.version) ?? []), path]);
    byName.set(name, versions);
  }
  return [...byName.entries()]
    .filter(([, versions]) => versions.size > 1)
    .map(
      ([name, versions]) =>
        `${name}: ${[...versions.entries()].map(([version, paths]) => `${version} (${paths.join(', ')})`).join(', ')}`,
    )
    .sort();
}

/** "manifest › field › name: range" for every tracked dependency not pinned to an exact version. */
export function rangePins(manifests: Record<string, Manifest>): string[] {
  const problems: string[] = [];
  for (const [where, manifest] of Object.entries(manifests)) {
    for (const field of ['dependencies', 'devDependencies', 'optionalDependencies', 'overrides'] as const) {
      for (const [name, spec] of Object.entries(manifest[field] ?? {})) {
        if (!isTracked(name)) continue;
        if (typeof spec !== 'string' || !EXACT_VERSION.test(spec)) problems.push(`${where} › ${field} › ${name}: ${JSON.stringify(spec)}`);
      }
    }
  }
  return problems.sort();
}

/**
 * Published packages must leave the API to the application: never a dependency (two API copies
 * mean two global registries), and a peer dependency wherever it is used. `usesApi` says which
 * packages need it: the tracing libraries always, any other package when its source imports it.
 */
export function apiNotPeer(manifests: Record<string, Manifest>, usesApi: (where: string) => boolean): string[] {
  const problems: string[] = [];
  for (const [where, manifest] of Object.entries(manifests)) {
    if (manifest.private === true) continue;
    if (manifest.dependencies?.['@opentelemetry/api'] !== undefined) problems.push(`${where}: @opentelemetry/api is a dependency`);
    if (usesApi(where) && manifest.peerDependencies?.['@opentelemetry/api'] === undefined) {
      problems.push(`${where}: @opentelemetry/api is not a peer dependency`);
    }
  }
  return problems;
}

/** The tracing libraries; the other published packages (names, token format) need no API. */
const TRACING_LIBRARIES = ['@otel-checkout/web', '@otel-checkout/node'];

function importsApi(packageDir: string): boolean {
  const src = join(ROOT, packageDir, 'src');
  if (!existsSync(src)) return false;
  const pattern = /from\s+['"]@opentelemetry\/api['"]|require\(\s*['"]@opentelemetry\/api['"]\s*\)/;
  const visit = (dir: string): boolean =>
    readdirSync(dir, { withFileTypes: true }).some((entry) =>
      entry.isDirectory() ? visit(join(dir, entry.name)) : entry.name.endsWith('.ts') && pattern.test(readFileSync(join(dir, entry.name), 'utf8')),
    );
  return visit(src);
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** The root manifest and every workspace manifest, keyed by their path relative to the root. */
function workspaceManifests(): Record<string, Manifest> {
  const root = readJson<Manifest>(join(ROOT, 'package.json'));
  const manifests: Record<string, Manifest> = { 'package.json': root };
  for (const pattern of root.workspaces ?? []) {
    const dirs = pattern.endsWith('/*')
      ? readdirSync(join(ROOT, pattern.slice(0, -2)), { withFileTypes: true })
          .filter((entry) => entry.isDirectory())
          .map((entry) => `${pattern.slice(0, -2)}/${entry.name}`)
      : [pattern];
    for (const dir of dirs) {
      const path = join(ROOT, dir, 'package.json');
      if (existsSync(path)) manifests[`${dir}/package.json`] = readJson<Manifest>(path);
    }
  }
  return manifests;
}

describe('OpenTelemetry versions', function () {
  const lock = readJson<{ packages: Record<string, LockEntry> }>(join(ROOT, 'package-lock.json'));

  it('package-lock.json installs every @opentelemetry/* package (and @fastify/otel) in one version', function () {
    const duplicates = duplicateVersions(lock.packages);
    assert.deepStrictEqual(duplicates, [], `installed in more than one version:\n  ${duplicates.join('\n  ')}`);
  });

  it('node_modules holds the versions package-lock.json names', function () {
    const stale: string[] = [];
    for (const [path, entry] of Object.entries(lock.packages)) {
      const at = path.lastIndexOf('node_modules/');
      if (at < 0 || entry.link === true || !isTracked(path.slice(at + 'node_modules/'.length))) continue;
      const manifest = join(ROOT, path, 'package.json');
      if (!existsSync(manifest)) continue;
      const installed = readJson<{ version: string }>(manifest).version;
      if (installed !== entry.version) stale.push(`${path}: installed ${installed}, lock says ${entry.version}`);
    }
    assert.deepStrictEqual(stale, [], `node_modules is out of date with package-lock.json:\n  ${stale.join('\n  ')}`);
  });

  it('every workspace pins @opentelemetry/* dependencies to exact versions', function () {
    const ranges = rangePins(workspaceManifests());
    assert.deepStrictEqual(ranges, [], `pin these exactly (no ^, ~ or ranges):\n  ${ranges.join('\n  ')}`);
  });

  it('@opentelemetry/api is a peer dependency, never a dependency, of the published libraries', function () {
    const manifests = workspaceManifests();
    const published = Object.fromEntries(
      Object.entries(manifests).filter(([where, manifest]) => where !== 'package.json' && manifest.private !== true),
    );
    const names = Object.values(published).map((manifest) => manifest.name);
    for (const library of TRACING_LIBRARIES) assert.ok(names.includes(library), `${library} is not a published workspace`);
    const problems = apiNotPeer(
      published,
      (where) => TRACING_LIBRARIES.includes(published[where].name ?? '') || importsApi(dirname(where)),
    );
    assert.deepStrictEqual(problems, [], problems.join('\n'));
  });

  describe('the checks themselves', function () {
    it('catch the sdk-trace-web 2.12.0 / 2.12.1 trap, naming versions and locations', function () {
      const problems = duplicateVersions({
        '': { version: '0.0.0' },
        'node_modules/@opentelemetry/core': { version: '2.12.0' },
        'node_modules/@opentelemetry/otlp-transformer/node_modules/@opentelemetry/core': { version: '2.12.1' },
        'node_modules/@opentelemetry/sdk-trace-web': { version: '2.12.0' },
        'node_modules/@otel-checkout/web': { link: true },
        'node_modules/left-pad': { version: '1.0.0' },
        'packages/x/node_modules/left-pad': { version: '1.1.0' },
      });
      assert.deepStrictEqual(problems, [
        '@opentelemetry/core: 2.12.0 (node_modules/@opentelemetry/core), 2.12.1 (node_modules/@opentelemetry/otlp-transformer/node_modules/@opentelemetry/core)',
      ]);
    });

    it('catch ranges in dependencies and overrides but allow peer ranges', function () {
      const problems = rangePins({
        'packages/web/package.json': {
          dependencies: { '@opentelemetry/core': '^2.12.0', '@opentelemetry/resources': '2.12.0', express: '^5.0.0' },
          devDependencies: { '@fastify/otel': '~0.21.2' },
          peerDependencies: { '@opentelemetry/api': '>=1.9.0 <1.11.0' },
        },
        'package.json': { overrides: { '@opentelemetry/sdk-trace-base': '2.12.x' } },
      });
      assert.deepStrictEqual(problems, [
        'package.json › overrides › @opentelemetry/sdk-trace-base: "2.12.x"',
        'packages/web/package.json › dependencies › @opentelemetry/core: "^2.12.0"',
        'packages/web/package.json › devDependencies › @fastify/otel: "~0.21.2"',
      ]);
    });

    it('catch an API dependency or a missing API peer', function () {
      assert.deepStrictEqual(
        apiNotPeer(
          {
            'a/package.json': { dependencies: { '@opentelemetry/api': '1.9.1' }, peerDependencies: { '@opentelemetry/api': '^1.9.0' } },
          'b/package.json': {},
          'c/package.json': { private: true },
            'd/package.json': {},
          },
          (where) => where !== 'd/package.json',
        ),
        ['a/package.json: @opentelemetry/api is a dependency', 'b/package.json: @opentelemetry/api is not a peer dependency'],
      );
    });
  });
});
