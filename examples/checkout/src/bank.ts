import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { listenOnLoopback } from '@otel-checkout/test-support';
import type { StartedHttpServer } from '@otel-checkout/test-support';
import express from 'express';
import type { Response } from 'express';

/** Faults the simulated bank injects for one trade number. */
export interface BankBehaviour {
  /** Status sent in the callback when the shopper approves. Default `SUCCESS`. */
  status?: string;
  /**
   * `once` (default), `twice` (a retried notification), `never`, `after-stalled` (held until
   * `sendHeldCallback`), `pending-first` (a "waiting for the buyer" notification, then the
   * final one once the first was answered), `unmapped-first` (the same with a status the
   * shop's table does not know first), `pending-only` (the "waiting for the buyer"
   * notification and nothing after: the shopper never paid), or `refused-first` (the
   * notification in GBK first, a charset the shop's form parser refuses, then again in UTF-8
   * once that one was refused).
   */
  callback?: 'once' | 'twice' | 'never' | 'after-stalled' | 'pending-first' | 'unmapped-first' | 'pending-only' | 'refused-first';
  /** The payment page never answers (the shopper's browser waits forever). */
  pageNeverLoads?: boolean;
  /** The bank refuses the payment when the shop creates it (`REJECTED`): no page, no callback. */
  refuse?: boolean;
}

interface BankPayment {
  id: string;
  tradeNo: string;
  amount: number;
  returnUrl: string;
  notifyUrl: string;
  behaviour: BankBehaviour;
  finalStatus?: string;
}

export interface Bank extends Pick<StartedHttpServer, 'url' | 'close'> {
  /** Sets the faults for a trade number before its checkout starts. */
  plan(tradeNo: string, behaviour: BankBehaviour): void;
  /** Sends the callback that `after-stalled` held back. */
  sendHeldCallback(tradeNo: string): Promise<void>;
  /** Callbacks that could not be delivered (the backend answered non-2xx or was unreachable). */
  readonly callbackFailures: number;
}

const CALLBACK_DELAY_MS = 150;
/** What the bank notifies while the payment is not final yet (`pending-first`). */
export const PENDING_STATUS = 'WAIT_BUYER_PAY';
/** A status the bank added without telling the shop (`unmapped-first`): under review by its risk team. */
export const UNMAPPED_STATUS = 'RISK_REVIEW';

/**
 * A bank/wallet on its own origin, as a provider looks from the shop: a server-to-server API
 * that creates a payment, a payment page the shopper is redirected to, a redirect back to the
 * shop's return URL, and an asynchronous notification (form POST) to the shop's notify URL.
 */
export async function startBank(): Promise<Bank> {
  const plans = new Map<string, BankBehaviour>();
  const payments = new Map<string, BankPayment>();
  const hanging = new Set<Response>();
  let callbackFailures = 0;
  const app = express();

  async function notify(payment: BankPayment, status = payment.finalStatus ?? 'SUCCESS', charset = 'UTF-8'): Promise<void> {
    const body = new URLSearchParams({ out_trade_no: payment.tradeNo, payment_id: payment.id, trade_status: status }).toString();
    try {
      const headers = { 'content-type': `application/x-www-form-urlencoded; charset=${charset}` };
      const answer = await fetch(payment.notifyUrl, { method: 'POST', headers, body });
      if (!answer.ok) callbackFailures += 1;
    } catch {
      callbackFailures += 1;
    }
  }

  function scheduleCallbacks(payment: BankPayment): void {
    const mode = payment.behaviour.callback ?? 'once';
    if (mode === 'pending-only') {
      setTimeout(() => void notify(payment, PENDING_STATUS), CALLBACK_DELAY_MS);
      return;
    }
    if (mode === 'refused-first') {
      // Providers in China often notify in GBK; the shop's parser takes UTF-8 only.
      setTimeout(() => {
        void notify(payment, undefined, 'GBK').then(() => setTimeout(() => void notify(payment), CALLBACK_DELAY_MS));
      }, CALLBACK_DELAY_MS);
      return;
    }
    if (mode === 'pending-first' || mode === 'unmapped-first') {
      const first = mode === 'pending-first' ? PENDING_STATUS : UNMAPPED_STATUS;
      setTimeout(() => {
        void notify(payment, first).then(() => setTimeout(() => void notify(payment), CALLBACK_DELAY_MS));
      }, CALLBACK_DELAY_MS);
      return;
    }
    const times = mode === 'once' ? 1 : mode === 'twice' ? 2 : 0;
    for (let i = 0; i < times; i++) setTimeout(() => void notify(payment), CALLBACK_DELAY_MS * (i + 1));
  }

  app.post('/api/payments', express.json(), (req, res) => {
    const body = req.body as { tradeNo: string; amount: number; returnUrl: string; notifyUrl: string };
    const payment: BankPayment = { id: randomUUID(), ...body, behaviour: plans.get(body.tradeNo) ?? {} };
    payments.set(payment.id, payment);
    if (payment.behaviour.refuse) return void res.json({ paymentId: payment.id, status: 'REJECTED' });
    res.json({ paymentId: payment.id, status: 'CREATED', paymentUrl: `${bank.url}/pay/${payment.id}` });
  });

  app.get('/pay/:id', (req, res) => {
    const payment = payments.get(req.params.id);
    if (!payment) return void res.status(404).send('unknown payment');
    if (payment.behaviour.pageNeverLoads) return void hanging.add(res);
    res.type('html').send(`<!doctype html><html><head><meta charset="utf-8"><title>Demo Bank</title></head><body>
<h1>Demo Bank</h1><p>Pay ${(payment.amount / 100).toFixed(2)} EUR for order ${payment.tradeNo}?</p>
<a id="approve" href="/pay/${payment.id}/approve">Approve</a> <a id="cancel" href="/pay/${payment.id}/cancel">Cancel</a>
</body></html>`);
  });

  app.get('/pay/:id/:choice', (req, res) => {
    const payment = payments.get(req.params.id);
    if (!payment) return void res.status(404).send('unknown payment');
    payment.finalStatus = req.params.choice === 'cancel' ? 'CANCELLED_BY_USER' : (payment.behaviour.status ?? 'SUCCESS');
    scheduleCallbacks(payment);
    res.redirect(303, payment.returnUrl);
  });

  const server = await listenOnLoopback(createServer(app));
  const bank: Bank = {
    url: server.url,
    close: () => {
      for (const res of hanging) res.destroy();
      return server.close();
    },
    plan: (tradeNo, behaviour) => void plans.set(tradeNo, behaviour),
    async sendHeldCallback(tradeNo) {
      const payment = [...payments.values()].find((p) => p.tradeNo === tradeNo);
      if (payment) await notify(payment);
    },
    get callbackFailures() {
      return callbackFailures;
    },
  };
  return bank;
}
