import assert from 'node:assert/strict';
import { mock } from 'node:test';
import { createTransport, KEEPALIVE_BUDGET_BYTES } from '../../src/export/transport.js';

// The keepalive budget's accounting alone, with the browser's two ways out recorded: fetch
// (with or without keepalive) and sendBeacon. What Chromium does with them is covered in
// test/browser/export.test.ts.
describe('export transport: the keepalive budget', () => {
  const sent: Array<'keepalive' | 'plain' | 'beacon'> = [];
  const globals = globalThis as { navigator?: unknown; location?: unknown };
  const navigatorBefore = Object.getOwnPropertyDescriptor(globalThis, 'navigator');

  beforeEach(() => {
    sent.length = 0;
    Object.defineProperty(globalThis, 'navigator', { value: { sendBeacon: () => (sent.push('beacon'), true) }, configurable: true });
    // The page's address: a beacon is only sent from one without a query (see below).
    globals.location = { search: '' };
    mock.timers.enable({ apis: ['setTimeout'] });
  });
  afterEach(() => {
    mock.timers.reset();
    if (navigatorBefore) Object.defineProperty(globalThis, 'navigator', navigatorBefore);
    else delete globals.navigator;
    delete globals.location;
  });

  function transport(timeoutMillis: number) {
    // Requests stay in flight until released, as on a slow network.
    const inFlight: Array<() => void> = [];
    const fetch = ((_url: string, init: RequestInit) => {
      sent.push(init.keepalive ? 'keepalive' : 'plain');
      return new Promise<Response>((resolve) => inFlight.push(() => resolve({ ok: true } as Response)));
    }) as typeof globalThis.fetch;
    return { transport: createTransport({ url: 'https://collector.example/v1/traces', headers: {}, timeoutMillis, fetch }), inFlight };
  }

  it('gives the bytes of a beacon back once an export would have timed out: a page only hidden keeps keepalive', async () => {
    const { transport: t, inFlight } = transport(5000);
    const third = Math.floor(KEEPALIVE_BUDGET_BYTES / 3);
    // The page is hidden with the budget busy: the last batch goes as a beacon.
    const pending = ['a', 'b', 'c'].map((body) => {
      const sending = t.sendLeaving(body, third);
      assert.ok(sending, 'fits the budget');
      return sending;
    });
    assert.equal(await t.sendLeaving('d', third), 'beacon');
    for (const release of inFlight.splice(0)) release();
    await Promise.all(pending);
    // The beacon's bytes still count: a batch that would fit otherwise is not sent as keepalive.
    void t.send('e', third * 2 + 1);
    assert.equal(sent.at(-1), 'plain');
    mock.timers.tick(5000);
    // Shown again and later hidden or left: the whole budget is there again.
    void t.send('f', third * 2 + 1);
    assert.equal(sent.at(-1), 'keepalive');
    assert.deepEqual(sent, ['keepalive', 'keepalive', 'keepalive', 'beacon', 'plain', 'keepalive']);
  });

  it('sends no beacon from an address with a query (a return page: flow token, provider parameters), which it would carry as Referer: the batch is refused, to be kept for the next page', async () => {
    const { transport: t, inFlight } = transport(5000);
    const third = Math.floor(KEEPALIVE_BUDGET_BYTES / 3);
    globals.location = { search: '?otc_flow=AQIDBAUG&token=EC-77' };
    const pending = ['a', 'b', 'c'].map((body) => {
      const sending = t.sendLeaving(body, third);
      assert.ok(sending, 'fits the budget');
      return sending;
    });
    assert.equal(t.sendLeaving('d', third), undefined, 'refused: the queue keeps it for the next page');
    for (const release of inFlight.splice(0)) release();
    await Promise.all(pending);
    assert.deepEqual(sent, ['keepalive', 'keepalive', 'keepalive']);
    // The address without a query (resume() took the token out): a beacon again.
    globals.location = { search: '' };
    void t.sendLeaving('e', third);
    void t.sendLeaving('f', third);
    void t.sendLeaving('g', third);
    assert.equal(await t.sendLeaving('h', third), 'beacon');
  });
});
