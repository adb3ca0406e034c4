import type { Browser, Page } from 'playwright-core';
import type { OtlpReceiver } from '@otel-checkout/test-support';
import {
  ATTR_PAYMENT_FAILURE_REASON,
  ATTR_PAYMENT_OUTCOME,
  ATTR_PAYMENT_TRADE_NO,
  PAYMENT_FAILURE_REASON_VALUE_PAGE_LOAD_FAILED,
  PAYMENT_OUTCOME_VALUE_FAILED,
  SPAN_NAME_PAYMENT_CALLBACK_STALLED,
  SPAN_NAME_PAYMENT_CHECKOUT,
} from '@otel-checkout/semantic-conventions/incubating';
import type { Bank } from './bank.js';
import { forgeReturnUrl } from './forge-token.js';
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
  try {
    const page = await context.newPage();
    const query = new URLSearchParams({ order: tradeNo, amount: String(scenario.amount), method: scenario.method, provider: scenario.provider, user: `shopper-${scenario.name}` });
    await page.goto(`${shopUrl}/checkout?${query}`);

    if (scenario.bank.refuse) {
      // No bank page: the SDK call fails and the checkout page records the failure.
      await page.click('#pay', { noWaitAfter: true });
      await receiver.waitForSpan(
        (s) => s.name === SPAN_NAME_PAYMENT_CHECKOUT && s.attributes[ATTR_PAYMENT_TRADE_NO] === tradeNo && s.attributes[ATTR_PAYMENT_OUTCOME] === PAYMENT_OUTCOME_VALUE_FAILED,
        { timeoutMs },
      );
      return;
    }

    if (!scenario.returns) {
      // The bank page hangs: the checkout page, still visible, records page_load_failed.
      await page.click('#pay', { noWaitAfter: true });
      await receiver.waitForSpan(
        (s) => s.name === SPAN_NAME_PAYMENT_CHECKOUT && s.attributes[ATTR_PAYMENT_TRADE_NO] === tradeNo && s.attributes[ATTR_PAYMENT_FAILURE_REASON] === PAYMENT_FAILURE_REASON_VALUE_PAGE_LOAD_FAILED,
        { timeoutMs },
      );
      return;
    }

    await Promise.all([page.waitForURL(`${bank.url}/pay/**`), page.click('#pay')]);
    // The return URL as the bank sends it, token included (the return page removes it from the address bar).
    const [returnRequest] = await Promise.all([page.waitForRequest((r) => r.url().startsWith(`${shopUrl}/return?`)), page.click(`#${scenario.shopper}`)]);
    await waitForResult(page);

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

/** The return page writes the outcome it polled for once its spans are exported. */
async function waitForResult(page: Page): Promise<void> {
  await page.waitForSelector('#result[data-done]');
}
