import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DEFAULT_EXEMPT_KEYS } from '@otel-checkout/core';

const README = readFileSync(join(resolve(__dirname, '..', '..'), 'README.md'), 'utf8');

/** The text of the README's `## title` section. */
function section(title: string): string {
  const start = README.indexOf(`\n## ${title}\n`);
  assert.ok(start >= 0, `no section "${title}"`);
  const end = README.indexOf('\n## ', start + 1);
  return README.slice(start, end < 0 ? undefined : end);
}

describe('README claims', () => {
  it('"Safety" names every attribute the redaction processor leaves as it is by default', () => {
    const safety = section('Safety');
    for (const key of DEFAULT_EXEMPT_KEYS) assert.ok(safety.includes(`\`${key}\``), `${key} is exempt from redaction but not named under "Safety"`);
  });

  it("the health counters of exports say that the application's own SDK exports without them", () => {
    const health = section('Health');
    for (const counter of ['spansExported', 'spansDropped', 'exportFailures']) {
      const row = health.split('\n').find((line) => line.startsWith(`| \`${counter}\` |`));
      assert.ok(row?.includes('coexisting'), `the ${counter} row does not say what happens in coexisting mode: ${row}`);
    }
  });
});
