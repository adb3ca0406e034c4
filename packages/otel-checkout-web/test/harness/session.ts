import type { Browser, BrowserContext, Page } from 'playwright-core';
import { collectPageErrors, launchBrowser, newContext } from './browser.js';
import { startSites } from './sites.js';
import type { Sites } from './sites.js';

/** What one browser test gets: shared per file (browser, sites), fresh per test (context, page). */
export interface ChromiumSession {
  browser: Browser;
  sites: Sites;
  context: BrowserContext;
  page: Page;
  pageErrors: string[];
}

/**
 * Registers the mocha hooks every browser test file needs: one Chromium and one set of sites
 * per file, a fresh context and page per test with the receiver cleared (spans started before
 * the test are not kept, whenever they arrive). `onEach` receives
 * the session before each test (after the page exists), so files keep plain local variables.
 */
export function useChromiumSession(onEach: (session: ChromiumSession) => void, launch: { backForwardCache?: boolean } = {}): void {
  let browser: Browser | undefined;
  let sites: Sites | undefined;
  let context: BrowserContext | undefined;

  before(async () => {
    [browser, sites] = await Promise.all([launchBrowser(launch), startSites()]);
  });
  after(async () => {
    await browser?.close();
    await sites?.close();
  });
  beforeEach(async () => {
    // A page of the test before may still export as its context closes; its spans started
    // before this test, so none of them can pass for one of this test's.
    sites!.receiver.clear({ ignoreSpansStartedBefore: Date.now() });
    context = await newContext(browser!);
    const page = await context.newPage();
    onEach({ browser: browser!, sites: sites!, context, page, pageErrors: collectPageErrors(page) });
  });
  afterEach(async () => {
    await context?.close();
  });
}
