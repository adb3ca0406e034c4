import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generate } from '../scripts/generate.js';
import { PACKAGE_ROOT } from '../scripts/validate.js';

const REGENERATE = 'run `npm run generate -w @otel-checkout/semantic-conventions` and commit the result';

describe('checked-in generated files', () => {
  let out: string;
  let written: string[];

  before(() => {
    out = mkdtempSync(join(tmpdir(), 'semconv-fresh-'));
    written = generate(out);
  });

  after(() => {
    rmSync(out, { recursive: true, force: true });
  });

  it('are byte-for-byte what the generator writes from model/*.yaml', () => {
    const stale = written.filter((path) => {
      const fresh = readFileSync(join(out, path));
      let checkedIn: Buffer;
      try {
        checkedIn = readFileSync(join(PACKAGE_ROOT, path));
      } catch {
        return true;
      }
      return !fresh.equals(checkedIn);
    });
    assert.deepEqual(stale, [], `stale generated files: ${stale.join(', ')}; ${REGENERATE}`);
  });

  it('are the only files in src/ (every constant comes from the model)', () => {
    const generated = written.filter((p) => p.startsWith('src/')).map((p) => p.slice('src/'.length)).sort();
    const present = readdirSync(join(PACKAGE_ROOT, 'src')).sort();
    assert.deepEqual(present, generated, `src/ holds files the generator does not write; add the names to model/*.yaml and ${REGENERATE}`);
  });
});
