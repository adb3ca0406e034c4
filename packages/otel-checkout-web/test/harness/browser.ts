import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';

/**
 * Debian's Chromium, headless, without background traffic that could reach the test servers.
 * Playwright turns the back-forward cache off by default; `backForwardCache` keeps it, as every
 * shopper's browser has it.
 */
export function launchBrowser({ backForwardCache = false } = {}): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    ignoreDefaultArgs: backForwardCache ? ['--disable-back-forward-cache'] : undefined,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
  });
}

/** Page errors collected, so a test can assert that tracing never threw into the page. */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(error.message));
  return errors;
}

/**
 * A fresh context. tsx compiles the test files with esbuild's keepNames, so functions passed
 * to `page.evaluate` may call its `__name` helper: the page gets a stand-in.
 */
export async function newContext(browser: Browser): Promise<BrowserContext> {
  const context = await browser.newContext();
  await context.addInitScript('globalThis.__name = (fn) => fn;');
  return context;
}
