/** Loads the YAML fixtures under test/fixtures as model sources. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ModelSource } from '../scripts/model.js';
import { PACKAGE_ROOT } from '../scripts/validate.js';

export function fixture(name: string): ModelSource {
  const file = `test/fixtures/${name}`;
  return { file, text: readFileSync(join(PACKAGE_ROOT, file), 'utf8') };
}
