import * as assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { resolve } from 'node:path';

/**
 * The framework a fixture workspace installed, resolved from the fixture's directory (mocha
 * runs there), loaded only when first asked for: the OTel instrumentations patch a module
 * when it is required, so it must be required after tracing started.
 */
export function fixtureFramework(name: string, major: number): { load: () => unknown } {
  const requireHere = requireFromFixture();
  return {
    load: () => {
      const { version } = requireHere(`${name}/package.json`) as { version: string };
      assert.equal(Number(version.split('.')[0]), major, `${name} ${version} is not the fixture's major version ${major}`);
      return requireHere(name);
    },
  };
}

/** A helper package the fixture installed beside its framework (a router), loaded from the fixture's directory when first asked for. */
export function fixtureModule(name: string): { load: () => unknown } {
  const requireHere = requireFromFixture();
  return { load: () => requireHere(name) };
}

/** `require` as the fixture's own files resolve it (mocha runs in the fixture's directory). */
function requireFromFixture(): NodeRequire {
  return createRequire(resolve('package.json'));
}
