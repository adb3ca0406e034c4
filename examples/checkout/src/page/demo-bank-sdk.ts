/** An order as the checkout page sends it. */
export interface Order {
  tradeNo: string;
  amount: number;
  method: string;
  provider: string;
}

/**
 * A stand-in for a provider's JavaScript SDK: it asks the shop's backend to create the payment
 * and answers with the bank page to send the shopper to.
 */
export const demoBankSdk = {
  version: '2.4.0',
  // A refusal is an answer, not an error, as in most providers' SDKs: only a failure to talk to
  // the shop rejects (and is recorded as the SDK's error).
  async createPayment(order: Order): Promise<{ redirect: string } | { refused: string }> {
    const answer = await fetch('/api/checkout', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(order) });
    if (answer.status === 402) return { refused: ((await answer.json()) as { reason: string }).reason };
    if (!answer.ok) throw new Error(`payment creation failed: HTTP ${answer.status}`);
    return (await answer.json()) as { redirect: string };
  },
};
