import {
  PAYMENT_FAILURE_REASON_VALUE_INSUFFICIENT_FUNDS,
  PAYMENT_FAILURE_REASON_VALUE_PAGE_LOAD_FAILED,
  PAYMENT_FAILURE_REASON_VALUE_PROVIDER_ERROR,
  PAYMENT_FAILURE_REASON_VALUE_RISK_REJECTED,
  PAYMENT_FAILURE_REASON_VALUE_USER_CANCELLED,
  PAYMENT_METHOD_VALUE_ONLINE_BANKING,
  PAYMENT_METHOD_VALUE_WALLET,
  PAYMENT_OUTCOME_VALUE_CANCELLED,
  PAYMENT_OUTCOME_VALUE_FAILED,
  PAYMENT_OUTCOME_VALUE_STALLED,
  PAYMENT_OUTCOME_VALUE_SUCCEEDED,
} from '@otel-checkout/semantic-conventions/incubating';
import type { BankBehaviour } from './bank.js';
import { DEMO_BANK_SDK_NAME, DEMO_BANK_SDK_VERSION } from './page/demo-bank-sdk.js';
import type { SdkFault } from './page/demo-bank-sdk.js';

/**
 * What the shopper does on the bank's page: approve, cancel, press the browser's Back button
 * (and then leave), or press Back, pay again and approve.
 */
export type ShopperAction = 'approve' | 'cancel' | 'back' | 'back-then-approve';

/** One checkout the demo plays, the fault it injects, and the flow outcome it must end with. */
export interface Scenario {
  readonly name: string;
  /** What an on-call engineer learns from this trace. */
  readonly lesson: string;
  readonly provider: 'demobank' | 'demowallet';
  readonly method: string;
  /** In cents (EUR's minor unit), as `payment.amount` is. */
  readonly amount: number;
  readonly shopper: ShopperAction;
  readonly bank: BankBehaviour;
  /** A fault the bank's SDK raises in the shopper's browser, before it talks to the shop (set in that shopper's browser context only). */
  readonly sdkFault?: SdkFault;
  /** The flow's final outcome (callback or stalled span) and failure reason. */
  readonly outcome: string;
  readonly reason?: string;
  /** The shopper reaches the return page (false when the SDK failed, the bank page never loads, the bank refused the payment or the shopper turned back). */
  readonly returns: boolean;
  /** After the return, open the return URL again in a fresh browser with a forged token. */
  readonly forgeReturnToken?: boolean;
  /** Once the return page shows the outcome, reload it (the shopper checking again). */
  readonly reloadsReturn?: boolean;
}

const BANK = { provider: 'demobank', method: PAYMENT_METHOD_VALUE_ONLINE_BANKING } as const;
const WALLET = { provider: 'demowallet', method: PAYMENT_METHOD_VALUE_WALLET } as const;

export const SCENARIOS: readonly Scenario[] = [
  {
    name: 'success',
    lesson: 'the whole journey in one trace: click, SDK, backend, bank, return, status polling, callback',
    ...BANK, amount: 4250, shopper: 'approve', bank: {}, outcome: PAYMENT_OUTCOME_VALUE_SUCCEEDED, returns: true,
  },
  {
    name: 'declined',
    lesson: 'the bank said no: the callback carries the failure reason the front end never sees',
    ...BANK, amount: 98000, shopper: 'approve', bank: { status: 'DECLINED_FUNDS' },
    outcome: PAYMENT_OUTCOME_VALUE_FAILED, reason: PAYMENT_FAILURE_REASON_VALUE_INSUFFICIENT_FUNDS, returns: true,
  },
  {
    name: 'refused-at-create',
    lesson: 'the bank refused the payment when the shop created it: the flow ends at payment.create, failed, and is never reported stalled',
    ...BANK, amount: 500000, shopper: 'approve', bank: { refuse: true },
    outcome: PAYMENT_OUTCOME_VALUE_FAILED, reason: PAYMENT_FAILURE_REASON_VALUE_RISK_REJECTED, returns: false,
  },
  {
    name: 'sdk-error',
    lesson: `the bank's SDK (${DEMO_BANK_SDK_NAME} ${DEMO_BANK_SDK_VERSION}, a retired version) failed in the browser before the shop heard of the payment: payment.sdk.error on the SDK call, with the SDK's name and version, is what checkout.sdk.errors counts; the checkout ends failed with ${PAYMENT_FAILURE_REASON_VALUE_PROVIDER_ERROR}, with no payment.create and nothing to stall`,
    ...BANK, amount: 3300, shopper: 'approve', bank: {}, sdkFault: 'version-retired',
    outcome: PAYMENT_OUTCOME_VALUE_FAILED, reason: PAYMENT_FAILURE_REASON_VALUE_PROVIDER_ERROR, returns: false,
  },
  {
    name: 'cancelled',
    lesson: 'the shopper gave up at the bank: cancelled, not failed (reason user_cancelled), yet it counts against the success rate',
    ...WALLET, amount: 1999, shopper: 'cancel', bank: {},
    outcome: PAYMENT_OUTCOME_VALUE_CANCELLED, reason: PAYMENT_FAILURE_REASON_VALUE_USER_CANCELLED, returns: true,
  },
  {
    name: 'callback-lost',
    lesson: 'the provider never called back: payment.callback.stalled says so, in the same trace, within the deadline',
    ...BANK, amount: 6500, shopper: 'approve', bank: { callback: 'never' }, outcome: PAYMENT_OUTCOME_VALUE_STALLED, returns: true,
  },
  {
    name: 'duplicate-callback',
    lesson: 'the provider retried its notification: the second payment.callback is marked duplicate, not a second payment',
    ...WALLET, amount: 1200, shopper: 'approve', bank: { callback: 'twice' }, outcome: PAYMENT_OUTCOME_VALUE_SUCCEEDED, returns: true,
  },
  {
    name: 'pending-then-paid',
    lesson: 'the wallet first notified "waiting for the buyer": that callback is not the end, the flow waits for the final one',
    ...WALLET, amount: 3600, shopper: 'approve', bank: { callback: 'pending-first' }, outcome: PAYMENT_OUTCOME_VALUE_SUCCEEDED, returns: true,
  },
  {
    name: 'abandoned-after-pending',
    lesson: 'the wallet notified "waiting for the buyer" and nothing more: the flow stalls, and its stalled span says WAIT_BUYER_PAY, an abandoned payment rather than a lost callback',
    ...WALLET, amount: 4400, shopper: 'approve', bank: { callback: 'pending-only' }, outcome: PAYMENT_OUTCOME_VALUE_STALLED, returns: true,
  },
  {
    name: 'late-callback',
    lesson: 'the callback came after the flow was declared stalled: marked late, still in the flow trace',
    ...BANK, amount: 23000, shopper: 'approve', bank: { callback: 'after-stalled' }, outcome: PAYMENT_OUTCOME_VALUE_STALLED, returns: true,
  },
  {
    name: 'unmapped-status',
    lesson: 'the wallet first notified a status the integration does not map: payment.status.unmapped on that callback, which does not end the flow; the final notification does',
    ...WALLET, amount: 7500, shopper: 'approve', bank: { callback: 'unmapped-first' }, outcome: PAYMENT_OUTCOME_VALUE_SUCCEEDED, returns: true,
  },
  {
    name: 'refused-notification',
    lesson: 'the bank first notified in GBK, a charset the notify route\'s parser refuses (415): payment.callback.refused shows the bank did call; its retry in UTF-8 ends the flow',
    ...BANK, amount: 6100, shopper: 'approve', bank: { callback: 'refused-first' }, outcome: PAYMENT_OUTCOME_VALUE_SUCCEEDED, returns: true,
  },
  {
    name: 'turned-back',
    lesson: 'the shopper pressed Back on the bank page: payment.return (back_forward_cache) in the same trace tells an abandoned payment from a bank that never called back',
    ...BANK, amount: 8900, shopper: 'back', bank: { callback: 'never' }, outcome: PAYMENT_OUTCOME_VALUE_STALLED, returns: false,
  },
  {
    name: 'reloaded-return',
    lesson: 'the shopper reloaded the return page: the reload is a payment.return in the flow\'s trace (context source reload), not a trace of its own',
    ...WALLET, amount: 2600, shopper: 'approve', bank: {}, outcome: PAYMENT_OUTCOME_VALUE_SUCCEEDED, returns: true, reloadsReturn: true,
  },
  {
    name: 'paid-again',
    lesson: 'the shopper pressed Back on the bank page and paid again: both attempts in one trace, payment.retry (user_cancelled) on the restored flow',
    ...BANK, amount: 12900, shopper: 'back-then-approve', bank: {}, outcome: PAYMENT_OUTCOME_VALUE_SUCCEEDED, returns: true,
  },
  {
    name: 'bank-page-down',
    lesson: `the bank page never loaded: the checkout span ends with ${PAYMENT_FAILURE_REASON_VALUE_PAGE_LOAD_FAILED}, the backend flow stalls`,
    ...BANK, amount: 31000, shopper: 'approve', bank: { pageNeverLoads: true }, outcome: PAYMENT_OUTCOME_VALUE_STALLED, returns: false,
  },
  {
    name: 'forged-token',
    lesson: 'a return URL with a forged token is a span link with payment.context.rejected, never a parent',
    ...BANK, amount: 5500, shopper: 'approve', bank: {}, outcome: PAYMENT_OUTCOME_VALUE_SUCCEEDED, returns: true, forgeReturnToken: true,
  },
];

/** The scenarios named in `names` (all when empty); an unknown name is an error listing the known ones. */
export function selectScenarios(names: readonly string[]): Scenario[] {
  if (names.length === 0) return [...SCENARIOS];
  return names.map((name) => {
    const found = SCENARIOS.find((s) => s.name === name);
    if (!found) throw new Error(`unknown scenario "${name}"; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
    return found;
  });
}
