// The return page: continue the flow the checkout page handed over (or, with only a URL token,
// after the backend verified it), then poll the order status until it is final.
import { checkout } from '@otel-checkout/web';
import type { PaymentOutcome } from '@otel-checkout/web';
import { startPageTracing } from './page-tracing.js';

async function main(): Promise<void> {
  const tradeNo = new URLSearchParams(location.search).get('order') ?? '';
  const tracing = startPageTracing(sessionStorage.getItem('demo.user') ?? undefined);
  const flow = await checkout.resume({ verifyUrl: '/api/verify-token', details: { tradeNo } });
  const outcome = await flow.poll(
    () => fetch(`/api/orders/${encodeURIComponent(tradeNo)}/status`).then((r) => r.json() as Promise<{ outcome: PaymentOutcome }>),
    (status) => status.outcome,
    { intervalMillis: 300, maxAttempts: 8 },
  );
  flow.end();
  await tracing.flush();
  const result = document.getElementById('result')!;
  result.textContent = outcome ?? 'still pending';
  result.dataset.done = 'true';
}

void main();
