// A process that starts tracing with shutdownOnSigterm and waits for the signal.
// argv[2]: the OTLP traces URL; argv[3] 'own-listener': the app has its own SIGTERM listener,
// which exits with code 3 a second later. Prints "ready" once a payment span was made.
import { payments, startCheckoutTracing } from '../../src/index.js';

async function main(): Promise<void> {
  startCheckoutTracing({ endpoint: process.argv[2], shutdownOnSigterm: true, scheduledDelayMillis: 60_000 });
  if (process.argv[3] === 'own-listener') {
    process.on('SIGTERM', () => {
      setTimeout(() => process.exit(3), 1000);
    });
  }
  await payments.create({ tradeNo: 'SIGTERM-1' }, () => undefined);
  process.stdout.write('ready\n');
  // Keeps the process alive until the signal arrives.
  setInterval(() => undefined, 1000);
}

void main();
