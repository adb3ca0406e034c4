import assert from 'node:assert/strict';
import { checkout, InvalidArgumentError } from '../../src/index.js';

// Outside a browser (server-side rendering, tests) before `startCheckoutTracing`: the no-op flow.
describe('the flow that records nothing, outside a browser', () => {
  it('redirect does not throw where there is no location', () => {
    assert.equal(typeof (globalThis as { location?: unknown }).location, 'undefined');
    assert.doesNotThrow(() => checkout.begin().redirect('https://bank.example/pay'));
  });

  it('query and poll reject a non-function with InvalidArgumentError, as a recording flow does', async () => {
    const flow = checkout.begin();
    await assert.rejects(flow.query(undefined as never), InvalidArgumentError);
    await assert.rejects(flow.poll('status' as never, () => 'pending'), InvalidArgumentError);
  });
});
