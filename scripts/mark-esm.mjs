// The ESM builds live in packages whose package.json has no "type" field (so that the
// CJS build stays CommonJS); a nested package.json marks each ESM output folder.
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const packages = ['semantic-conventions', 'otel-checkout-core', 'otel-checkout-web'];
for (const name of packages) {
  const dir = join('packages', name, 'build', 'esm');
  if (existsSync(dir)) writeFileSync(join(dir, 'package.json'), '{ "type": "module" }\n');
}
