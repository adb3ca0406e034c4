import { createServer } from 'node:http';
import express from 'express';
import { expressCallback, expressPayments, expressVerifyToken, payments } from '@otel-checkout/node';
import type { PaymentOutcome, ProviderStatusTable } from '@otel-checkout/node';
import { listenOnLoopback } from '@otel-checkout/test-support';
import type { StartedHttpServer } from '@otel-checkout/test-support';
import {
  PAYMENT_FAILURE_REASON_VALUE_INSUFFICIENT_FUNDS,
  PAYMENT_FAILURE_REASON_VALUE_RISK_REJECTED,
  PAYMENT_FAILURE_REASON_VALUE_USER_CANCELLED,
  PAYMENT_OUTCOME_VALUE_CANCELLED,
  PAYMENT_OUTCOME_VALUE_FAILED,
  PAYMENT_OUTCOME_VALUE_PENDING,
  PAYMENT_OUTCOME_VALUE_SUCCEEDED,
  PAYMENT_OUTCOME_VALUE_UNKNOWN,
} from '@otel-checkout/semantic-conventions';
import { otlpRelay } from './otlp-relay.js';
import type { PageBundles } from './page-bundle.js';

/** The bank's payment-creation statuses. */
const CREATE_STATUSES: ProviderStatusTable = {
  CREATED: PAYMENT_OUTCOME_VALUE_PENDING,
  REJECTED: { outcome: PAYMENT_OUTCOME_VALUE_FAILED, reason: PAYMENT_FAILURE_REASON_VALUE_RISK_REJECTED },
};

/**
 * The bank's callback statuses. Anything else is recorded `unknown` with a
 * `payment.status.unmapped` event, and the flow waits for the bank's next notification.
 */
const CALLBACK_STATUSES: ProviderStatusTable = {
  SUCCESS: PAYMENT_OUTCOME_VALUE_SUCCEEDED,
  WAIT_BUYER_PAY: PAYMENT_OUTCOME_VALUE_PENDING,
  DECLINED_FUNDS: { outcome: PAYMENT_OUTCOME_VALUE_FAILED, reason: PAYMENT_FAILURE_REASON_VALUE_INSUFFICIENT_FUNDS },
  CANCELLED_BY_USER: { outcome: PAYMENT_OUTCOME_VALUE_CANCELLED, reason: PAYMENT_FAILURE_REASON_VALUE_USER_CANCELLED },
};

interface CheckoutRequest {
  tradeNo: string;
  amount: number;
  method: string;
  provider: string;
}

interface BankPaymentAnswer {
  paymentId: string;
  status: string;
  /** Absent when the bank refused the payment. */
  paymentUrl?: string;
}

export interface BackendOptions {
  /** The bank's API and pages. */
  bankUrl: string;
  /** The checkout and return page scripts. */
  pages: PageBundles;
  /** Where `/v1/traces` hands the spans it receives (the embedded receiver, a collector). */
  otlpTargets: readonly string[];
  /** Called when a target refuses or cannot be reached. */
  onExportFailure?: (target: string, why: string) => void;
}

function page(title: string, script: string, body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title><script defer src="/assets/${script}.js"></script></head><body>${body}</body></html>`;
}

/**
 * The shop: the checkout and return pages, the payment API (create the payment at the bank,
 * order status), the bank's notification endpoint and the token verify endpoint for the
 * return page. Tracing is started once per process before this (see `tracing.ts`).
 */
export async function startBackend(options: BackendOptions): Promise<StartedHttpServer> {
  const orders = new Map<string, { outcome: PaymentOutcome; reason?: string }>();
  let self = '';
  const app = express();

  app.get('/checkout', (_req, res) => void res.type('html').send(page('Checkout', 'checkout', '<h1>Your order</h1><button id="pay">Pay</button><p id="result"></p>')));
  app.get('/return', (_req, res) => void res.type('html').send(page('Thank you', 'return', '<h1>Back from the bank</h1><p id="result"></p>')));
  app.get('/assets/:name.js', (req, res) => {
    const script = options.pages[req.params.name as keyof PageBundles];
    if (script === undefined) return void res.sendStatus(404);
    res.type('js').send(script);
  });
  app.post('/v1/traces', ...otlpRelay(options.otlpTargets, options.onExportFailure));

  // Payment routes: each request gets a server span that continues the browser's trace.
  const pay = expressPayments({
    extract: (req) => {
      const body = req.method === 'POST' ? req.json() : undefined;
      const tradeNo = typeof body?.tradeNo === 'string' ? body.tradeNo : /\/orders\/([^/?]+)/.exec(req.url)?.[1];
      return { tradeNo, provider: body?.provider as string | undefined, method: body?.method as string | undefined };
    },
  });
  app.use(['/api/checkout', '/api/orders'], express.json(), pay);

  app.post('/api/checkout', async (req, res) => {
    const order = req.body as CheckoutRequest;
    // The shop's own order id, apart from the trade number sent to the bank: the support desk quotes it.
    const details = { tradeNo: order.tradeNo, orderId: `order-${order.tradeNo}`, amount: order.amount, currency: 'EUR', method: order.method, provider: order.provider, merchantId: 'demo-shop' };
    const redirect = await payments.create(details, async (flow) => {
      const created = await flow.providerCall('create_payment', async (call) => {
        const answer = await fetch(`${options.bankUrl}/api/payments`, {
          method: 'POST',
          headers: call.inject({ 'content-type': 'application/json' }),
          body: JSON.stringify({
            tradeNo: order.tradeNo,
            amount: order.amount,
            // Minting these URLs is the "redirect issued" moment: the flow now waits for its callback.
            returnUrl: flow.returnUrl(`${self}/return?order=${encodeURIComponent(order.tradeNo)}`),
            notifyUrl: flow.notifyUrl(`${self}/api/notify`),
          }),
        });
        call.http({ statusCode: answer.status, serverAddress: new URL(options.bankUrl).hostname });
        const json = (await answer.json()) as BankPaymentAnswer;
        call.transactionId(json.paymentId);
        call.status(json.status, CREATE_STATUSES);
        return json;
      });
      if (created.paymentUrl === undefined) {
        // Refused at once: the flow ends here, although its notify URL was minted. The
        // package lets it go from the flow store, so it is never reported stalled.
        const refused = { outcome: PAYMENT_OUTCOME_VALUE_FAILED, reason: PAYMENT_FAILURE_REASON_VALUE_RISK_REJECTED } as const;
        flow.recordOutcome(refused.outcome, { reason: refused.reason });
        orders.set(order.tradeNo, refused);
        return undefined;
      }
      flow.recordOutcome(PAYMENT_OUTCOME_VALUE_PENDING);
      orders.set(order.tradeNo, { outcome: PAYMENT_OUTCOME_VALUE_PENDING });
      return created.paymentUrl;
    });
    if (redirect === undefined) return void res.status(402).json({ error: 'the bank refused the payment', reason: orders.get(order.tradeNo)?.reason });
    res.json({ redirect });
  });

  app.get('/api/orders/:tradeNo/status', (req, res) => {
    res.set('cache-control', 'no-store').json(orders.get(req.params.tradeNo) ?? { outcome: PAYMENT_OUTCOME_VALUE_UNKNOWN });
  });
  app.use(pay.errors);

  // The bank's asynchronous notification: payment.callback joins the flow's trace via the token in the notify URL.
  // The middleware runs the route's parser, so a notification the parser refuses is traced too.
  app.post(
    '/api/notify',
    expressCallback({
      bodyParser: express.urlencoded({ extended: false }),
      tradeNo: (_req, fields) => fields?.out_trade_no as string | undefined,
      status: (_req, fields) => fields?.trade_status as string | undefined,
      statusTable: CALLBACK_STATUSES,
    }),
    (req, res) => {
      const { out_trade_no: tradeNo, trade_status: status } = req.body as Record<string, string>;
      const known = CALLBACK_STATUSES[status];
      // A status the shop does not know changes nothing it can tell the shopper: the order stays as it was.
      if (known !== undefined) orders.set(tradeNo, typeof known === 'string' ? { outcome: known } : known);
      res.type('text').send('success');
    },
  );

  // The return page asks whether the token in its URL is genuine before using it as a parent.
  app.get('/api/verify-token', expressVerifyToken());

  const server = await listenOnLoopback(createServer(app));
  self = server.url;
  return server;
}
