import type { Browser, Page } from 'playwright-core';
import type { OtlpReceiver } from '@otel-checkout/test-support';
import {
  ATTR_PAYMENT_FAILURE_REASON,
  ATTR_PAYMENT_OUTCOME,
  ATTR_PAYMENT_TRADE_NO,
  PAYMENT_FAILURE_REASON_VALUE_PAGE_LOAD_FAILED,
  PAYMENT_OUTCOME_VALUE_FAILED,
  ATTR_PAYMENT_CONTEXT_SOURCE,
  PAYMENT_CONTEXT_SOURCE_VALUE_BACK_FORWARD_CACHE,
  SPAN_NAME_PAYMENT_CALLBACK_STALLED,
  SPAN_NAME_PAYMENT_CHECKOUT,
  SPAN_NAME_PAYMENT_RETURN,
} from '@otel-checkout/semantic-conventions/incubating';
import type { Bank } from './bank.js';
import { forgeReturnUrl } from './forge-token.js';
import { SDK_FAULT_GLOBAL } from './page/demo-bank-sdk.js';
import type { Scenario } from './scenarios.js';

export interface ShopperWorld {
  browser: Browser;
  shopUrl: string;
  bank: Bank;
  receiver: OtlpReceiver;
  /** Bound on each wait for the page or for a span. */
  timeoutMs: number;
}

/** One shopper plays one scenario in a fresh browser context (own cookies and sessionStorage). */
export async function playScenario(world: ShopperWorld, scenario: Scenario, tradeNo: string): Promise<void> {
  const { browser, shopUrl, bank, receiver, timeoutMs } = world;
  const context = await browser.newContext();
  context.setDefaultTimeout(timeoutMs);
  // Marks a page the browser restored from its back-forward cache (the shoppers who press Back look).
  await context.addInitScript(() =>
    addEventListener('pageshow', (event) => {
      if (event.persisted) (window as { restoredFromCache?: boolean }).restoredFromCache = true;
    }),
  );
  // The SDK's fault, in this shopper's browser context only: no other scenario's page sees it.
  if (scenario.sdkFault !== undefined) {
    await context.addInitScript(([key, fault]) => void ((globalThis as Record<string, unknown>)[key] = fault), [SDK_FAULT_GLOBAL, scenario.sdkFault] as const);
  }
  try {
    const page = await context.newPage();
    const query = new URLSearchParams({ order: tradeNo, amount: String(scenario.amount), method: scenario.method, provider: scenario.provider, user: `shopper-${scenario.name}` });
    await page.goto(`${shopUrl}/checkout?${query}`);

    if (scenario.bank.refuse || scenario.sdkFault !== undefined) {
      // No bank page: the bank refused the payment (or the SDK failed before asking the shop),
      // and the checkout page records the failure.
      await page.click('#pay', { noWaitAfter: true });
      await receiver.waitForSpan(
        (s) => s.name === SPAN_NAME_PAYMENT_CHECKOUT && s.attributes[ATTR_PAYMENT_TRADE_NO] === tradeNo && s.attributes[ATTR_PAYMENT_OUTCOME] === PAYMENT_OUTCOME_VALUE_FAILED,
        { timeoutMs },
      );
      return;
    }

    if (scenario.bank.pageNeverLoads) {
      // The bank page hangs: the checkout page, still visible, records page_load_failed.
      await page.click('#pay', { noWaitAfter: true });
      await receiver.waitForSpan(
        (s) => s.name === SPAN_NAME_PAYMENT_CHECKOUT && s.attributes[ATTR_PAYMENT_TRADE_NO] === tradeNo && s.attributes[ATTR_PAYMENT_FAILURE_REASON] === PAYMENT_FAILURE_REASON_VALUE_PAGE_LOAD_FAILED,
        { timeoutMs },
      );
      return;
    }

    await Promise.all([page.waitForURL(`${bank.url}/pay/**`), page.click('#pay')]);
    if (scenario.shopper === 'back') {
      await turnBack(page, receiver, tradeNo, timeoutMs);
      return;
    }
    if (scenario.shopper === 'back-then-approve') {
      // Back to the restored checkout page, and Pay once more: the bank creates a second payment.
      await pressBack(page);
      await Promise.all([page.waitForURL(`${bank.url}/pay/**`), page.click('#pay')]);
    }
    // The return URL as the bank sends it, token included (the return page removes it from the address bar).
    const [returnRequest] = await Promise.all([page.waitForRequest((r) => r.url().startsWith(`${shopUrl}/return?`)), page.click(scenario.shopper === 'cancel' ? '#cancel' : '#approve')]);
    await waitForResult(page);
    if (scenario.reloadsReturn) {
      await page.reload();
      await waitForResult(page);
    }

    if (scenario.forgeReturnToken) {
      const attacker = await browser.newContext();
      try {
        const forged = await attacker.newPage();
        await forged.goto(forgeReturnUrl(returnRequest.url()));
        await waitForResult(forged);
      } finally {
        await attacker.close();
      }
    }
    if (scenario.bank.callback === 'after-stalled') {
      await receiver.waitForSpan((s) => s.name === SPAN_NAME_PAYMENT_CALLBACK_STALLED && s.attributes[ATTR_PAYMENT_TRADE_NO] === tradeNo, { timeoutMs });
      await bank.sendHeldCallback(tradeNo);
    }
  } finally {
    await context.close();
  }
}

/**
 * Back on the bank's page: the browser restores the checkout page from its back-forward cache
 * (no load event, so wait for the commit and then the page's own pageshow), where the flow
 * carries on as a `payment.return`. The shopper then leaves for good; leaving ends the flow
 * and sends its spans.
 */
async function turnBack(page: Page, receiver: OtlpReceiver, tradeNo: string, timeoutMs: number): Promise<void> {
  await pressBack(page);
  await page.goto('about:blank');
  await receiver.waitForSpan(
    (s) => s.name === SPAN_NAME_PAYMENT_RETURN && s.attributes[ATTR_PAYMENT_TRADE_NO] === tradeNo && s.attributes[ATTR_PAYMENT_CONTEXT_SOURCE] === PAYMENT_CONTEXT_SOURCE_VALUE_BACK_FORWARD_CACHE,
    { timeoutMs },
  );
}

/** Back from the bank's page to the checkout page, which the browser restores from its back-forward cache. */
async function pressBack(page: Page): Promise<void> {
  await page.goBack({ waitUntil: 'commit' });
  await page.waitForFunction(() => (window as { restoredFromCache?: boolean }).restoredFromCache === true).catch((error: unknown) => {
    throw new Error(`the checkout page was not restored from the back-forward cache (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`);
  });
}

/** The return page writes the outcome it polled for once its spans are exported. */
async function waitForResult(page: Page): Promise<void> {
  await page.waitForSelector('#result[data-done]');
}
