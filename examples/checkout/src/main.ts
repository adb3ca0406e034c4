// The demo of full checkouts: `npm run demo -w examples/checkout -- --help`.
import { parseOptions, USAGE } from './options.js';
import { runDemo } from './run-demo.js';

async function main(): Promise<number> {
  let options;
  try {
    options = parseOptions(process.argv.slice(2));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  if (options === 'help') {
    console.log(USAGE);
    return 0;
  }
  const result = await runDemo(options);
  if (!result.ok) console.error(`\nThe demo did not see the expected traces for: ${result.summary.failed.join(', ')} (details above, marked ✗).`);
  return result.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error('The demo could not run:', error);
    process.exit(1);
  },
);
