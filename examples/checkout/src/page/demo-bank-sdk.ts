/** An order as the checkout page sends it. */
export interface Order {
  tradeNo: string;
  amount: number;
  method: string;
  provider: string;
}

/** The SDK's name, as the checkout page wraps it (`checkout.sdk.name`). */
export const DEMO_BANK_SDK_NAME = 'demobank-js';
/** The SDK's version (`checkout.sdk.version`). */
export const DEMO_BANK_SDK_VERSION = '2.4.0';

/**
 * A fault the SDK raises on its own side, before it talks to the shop: `version-retired` (the
 * bank no longer accepts this SDK version, as when a cached page still loads an old script).
 * The demo sets it per browser context, under {@link SDK_FAULT_GLOBAL}; a shop never does.
 */
export type SdkFault = 'version-retired';
/** The global the demo's shopper sets, in its own browser context only, to inject an {@link SdkFault}. */
export const SDK_FAULT_GLOBAL = 'demoBankSdkFault';
/** The bank's code for a retired SDK version, on the {@link DemoBankSdkError} it raises. */
export const SDK_VERSION_RETIRED = 'SDK_VERSION_RETIRED';

/** The `name` of the SDK's own errors (the `error.type` the wrapper records). */
export const DEMO_BANK_SDK_ERROR = 'DemoBankSdkError';

/** An error the SDK itself raises (not a failure to talk to the shop): `code` is the bank's. */
export class DemoBankSdkError extends Error {
  override name = DEMO_BANK_SDK_ERROR;
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * A stand-in for a provider's JavaScript SDK: it asks the shop's backend to create the payment
 * and answers with the bank page to send the shopper to.
 */
export const demoBankSdk = {
  version: DEMO_BANK_SDK_VERSION,
  // A refusal is an answer, not an error, as in most providers' SDKs: only a failure to talk to
  // the shop, or the SDK's own error, rejects (and is recorded as the SDK's error).
  async createPayment(order: Order): Promise<{ redirect: string } | { refused: string }> {
    if ((globalThis as Record<string, unknown>)[SDK_FAULT_GLOBAL] === 'version-retired') {
      throw new DemoBankSdkError(SDK_VERSION_RETIRED, `${DEMO_BANK_SDK_NAME} ${DEMO_BANK_SDK_VERSION} is retired: load version 3 or later`);
    }
    const answer = await fetch('/api/checkout', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(order) });
    if (answer.status === 402) return { refused: ((await answer.json()) as { reason: string }).reason };
    if (!answer.ok) throw new Error(`payment creation failed: HTTP ${answer.status}`);
    return (await answer.json()) as { redirect: string };
  },
};
