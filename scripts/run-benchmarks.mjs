// Runs every benchmark under bench/<name>/run.ts in turn; each writes bench/results/<name>.json.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const only = process.argv.slice(2);
mkdirSync(join('bench', 'results'), { recursive: true });
let failed = 0;
for (const name of readdirSync('bench').sort()) {
  const script = join('bench', name, 'run.ts');
  if (!existsSync(script) || (only.length > 0 && !only.includes(name))) continue;
  process.stdout.write(`\n== bench/${name}\n`);
  const result = spawnSync(process.execPath, ['--conditions=@otel-checkout/source', '--import=tsx', script], {
    stdio: 'inherit',
  });
  if (result.status !== 0) failed += 1;
}
process.exit(failed === 0 ? 0 : 1);
