// The checkout page: the click on "Pay" starts the flow, the SDK call and the backend request
// join it, and the redirect to the bank hands it over to the return page.
import {
  PAYMENT_FAILURE_REASON_VALUE_INTERNAL,
  PAYMENT_FAILURE_REASON_VALUE_PROVIDER_ERROR,
  PAYMENT_METHOD_VALUE_ONLINE_BANKING,
} from '@otel-checkout/semantic-conventions';
import { checkout } from '@otel-checkout/web';
import { DEMO_BANK_SDK_NAME, DemoBankSdkError, demoBankSdk } from './demo-bank-sdk.js';
import type { Order } from './demo-bank-sdk.js';
import { startPageTracing } from './page-tracing.js';

const params = new URLSearchParams(location.search);
const order: Order = {
  tradeNo: params.get('order') ?? `WEB-${Date.now()}`,
  amount: Number(params.get('amount') ?? '1000'),
  method: params.get('method') ?? PAYMENT_METHOD_VALUE_ONLINE_BANKING,
  provider: params.get('provider') ?? 'demobank',
};
// A stable user id (from the shop's session in a real shop) decides the canary cohort; the return page reuses it.
const userId = params.get('user') ?? undefined;
if (userId !== undefined) sessionStorage.setItem('demo.user', userId);
startPageTracing(userId);

checkout.onClick(
  document.getElementById('pay')!,
  () => ({ ...order, currency: 'EUR', merchantId: 'demo-shop' }),
  (flow) => {
    const sdk = flow.wrapSdk(demoBankSdk, { name: DEMO_BANK_SDK_NAME, version: demoBankSdk.version });
    sdk.createPayment(order).then(
      (answer) => {
        if ('redirect' in answer) return flow.redirect(answer.redirect);
        // The bank refused the payment: the shop's answer says why, as its payment.create span does.
        flow.fail(answer.refused);
        document.getElementById('result')!.textContent = `payment refused: ${answer.refused}`;
      },
      (error: unknown) => {
        // The wrapper already recorded the SDK error (payment.sdk.error) on the SDK call's span.
        // The SDK's own error is the provider's, with the bank's code; a failure to reach the
        // shop is the shop's.
        if (error instanceof DemoBankSdkError) flow.fail(PAYMENT_FAILURE_REASON_VALUE_PROVIDER_ERROR, error.code);
        else flow.fail(PAYMENT_FAILURE_REASON_VALUE_INTERNAL);
        document.getElementById('result')!.textContent = String(error);
      },
    );
  },
);
