// Type-level test, checked by the repository's typecheck (never run): `call.status` with a
// table always maps the status, so its result needs no undefined check; without one it
// returns nothing.
import { payments } from '../../src/index.js';
import type { MappedStatus, PaymentOutcome } from '../../src/index.js';

export async function chargeOutcome(): Promise<PaymentOutcome> {
  const mapped: MappedStatus = await payments.providerCall('charge', (call) => call.status('PAID', { PAID: 'succeeded' }));
  const unmapped: undefined = await payments.providerCall('charge', (call) => call.status('PAID'));
  // @ts-expect-error without a table there is no mapped status to read
  await payments.providerCall('charge', (call) => call.status(200).outcome);
  return unmapped ?? mapped.outcome;
}
