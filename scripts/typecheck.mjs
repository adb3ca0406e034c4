// Type-checks every project of the repository, tests and benchmarks included: the build
// compiles only the packages' sources, so a type error in a test or a benchmark would
// otherwise go unnoticed (tests run through tsx, which does not check types).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const projects = [
  ...['packages', 'fixtures', 'examples', 'bench'].flatMap((group) =>
    readdirSync(group)
      .map((name) => join(group, name, 'tsconfig.json'))
      .filter((file) => existsSync(file)),
  ),
  join('collector-config', 'tsconfig.json'),
];
const tsc = join('node_modules', 'typescript', 'bin', 'tsc');

function check(project) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [tsc, '-p', project, '--noEmit'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('close', (code) => resolve({ project, code, output }));
  });
}

// Two at a time: each tsc is single-threaded and the machines this runs on have few cores.
const queue = [...projects];
const failures = [];
await Promise.all(
  [0, 1].map(async () => {
    for (let project = queue.shift(); project !== undefined; project = queue.shift()) {
      const result = await check(project);
      if (result.code !== 0) failures.push(result);
    }
  }),
);
for (const failure of failures) process.stdout.write(`\n${failure.project}:\n${failure.output}`);
process.stdout.write(`typecheck: ${projects.length - failures.length} of ${projects.length} projects without type errors\n`);
process.exit(failures.length === 0 ? 0 : 1);
