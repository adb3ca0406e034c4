// Type-level test, checked by the repository's typecheck (never run): Fastify's `register`
// infers the options of the package's plugins, so extractors and hooks are typed from them
// and a wrong option is a compile error.
import Fastify from 'fastify';
import { fastifyCallback, fastifyPayments } from '../../src/index.js';
import type { PaymentDetails } from '../../src/index.js';

export async function registerPlugins(): Promise<void> {
  const app = Fastify();
  await app.register(async (scope) => {
    await scope.register(fastifyPayments, {
      // `request` is a PaymentRequest (no implicit any), its json() a record of unknowns.
      extract: (request) => ({ tradeNo: typeof request.json()?.tradeNo === 'string' ? (request.json()?.tradeNo as string) : undefined }) satisfies PaymentDetails,
    });
    await scope.register(fastifyPayments);
    await scope.register(fastifyCallback, { tradeNo: (_request, fields) => (typeof fields?.out_trade_no === 'string' ? fields.out_trade_no : undefined) });
    await scope.register(fastifyPayments, { routes: ['/api/payments/:id'] });
    await scope.register(fastifyCallback, { routes: ['/api/notify'], provider: 'acme' });
    // @ts-expect-error routes are a list of route paths
    await scope.register(fastifyPayments, { routes: [42] });
    // @ts-expect-error an extractor must be a function
    await scope.register(fastifyPayments, { extract: 42 });
    // @ts-expect-error not an option of the payment plugin
    await scope.register(fastifyPayments, { extractor: () => undefined });
    // @ts-expect-error the callback plugin's statusTable maps to outcomes
    await scope.register(fastifyCallback, { statusTable: { PAID: 'paid' } });
  });
}
