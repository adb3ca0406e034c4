import assert from 'node:assert/strict';
import { DEFAULT_OPTIONS, parseOptions } from '../src/options.js';
import { runDemo } from '../src/run-demo.js';
import type { DemoResult } from '../src/run-demo.js';

describe('the checkout demo', function () {
  this.timeout(90_000);

  it('parses its flags and the standard OTLP endpoint variable', () => {
    assert.deepEqual(parseOptions([], {}), DEFAULT_OPTIONS);
    const parsed = parseOptions(['--scenario', 'success', '--scenario', 'declined', '--stalled-after', '1.5'], { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://jaeger:4318' });
    assert.ok(parsed !== 'help');
    assert.deepEqual(parsed.scenarios, ['success', 'declined']);
    assert.equal(parsed.stalledAfterSeconds, 1.5);
    assert.equal(parsed.otlpEndpoint, 'http://jaeger:4318');
    assert.throws(() => parseOptions(['--concurrency', 'many'], {}), /--concurrency needs a positive number/);
  });

  it('plays success, a refusal at create, an SDK error, a lost callback, a duplicate callback, a pending notification, a payment abandoned after one, an unmapped status, a refused notification, a forged token, a shopper who turns back, one who turns back and pays again and one who reloads the return page, and checks every trace', async () => {
    const lines: string[] = [];
    const scenarios = ['success', 'refused-at-create', 'sdk-error', 'callback-lost', 'duplicate-callback', 'pending-then-paid', 'abandoned-after-pending', 'unmapped-status', 'refused-notification', 'forged-token', 'turned-back', 'paid-again', 'reloaded-return'];
    // A deadline with room for a loaded machine: a shopper slower than this stalls a flow that
    // should have succeeded, and the check fails.
    const result: DemoResult = await runDemo({ ...DEFAULT_OPTIONS, scenarios, stalledAfterSeconds: 10, concurrency: 13 }, (line) => lines.push(line));
    const output = lines.join('\n');

    assert.ok(result.ok, output);
    assert.deepEqual(result.summary.failed, [], output);
    assert.equal(result.summary.flows, 13);
    assert.deepEqual(
      result.results.map((r) => [r.scenario, r.outcome]),
      [
        ['success', 'succeeded'],
        ['refused-at-create', 'failed'],
        ['sdk-error', 'failed'],
        ['callback-lost', 'stalled'],
        ['duplicate-callback', 'succeeded'],
        ['pending-then-paid', 'succeeded'],
        ['abandoned-after-pending', 'stalled'],
        ['unmapped-status', 'succeeded'],
        ['refused-notification', 'succeeded'],
        ['forged-token', 'succeeded'],
        ['turned-back', 'stalled'],
        ['paid-again', 'succeeded'],
        ['reloaded-return', 'succeeded'],
      ],
    );
    assert.deepEqual(result.summary.byOutcome, { succeeded: { demobank: 4, demowallet: 4 }, failed: { demobank: 2 }, stalled: { demobank: 2, demowallet: 1 } });
    assert.equal(result.summary.successRate, 8 / 13);
    assert.equal(result.summary.stalled, 3);
    // The backend's own counters saw the same story.
    // The refused flow minted its URLs but was let go, and the first payment of the shopper who paid
    // again was replaced by the second: only the lost callback, the shopper who turned back and the
    // payment abandoned after "waiting for the buyer" stalled.
    assert.equal(result.summary.health.stalledEmitted, 3);
    assert.equal(result.summary.health.callbacksDuplicate, 1);
    assert.equal(result.summary.health.tokensRejected, 1);
    assert.equal(result.summary.health.spansDropped, 0);

    // The printed report: trees with parents, the forged return as a link, the summary, where to look.
    assert.match(output, /payment\.callback\.stalled \[stalled\] outcome=stalled/);
    assert.match(output, /duplicate=true/);
    assert.match(output, /context\.rejected=bad_signature[^\n]*\n\s*↪ link to trace [0-9a-f]{32}/);
    assert.match(output, /outcome=pending provider\.status=WAIT_BUYER_PAY/);
    // A status the shop does not map: recorded on its callback, which did not end the flow.
    assert.match(output, /outcome=unknown reason=unmapped_status provider\.status=RISK_REVIEW [^\n]*\+event payment\.status\.unmapped/);
    assert.equal(result.summary.health.unmappedStatuses, 1);
    // A notification the notify route's parser refused: traced, counted, and the retry ended the flow.
    assert.match(output, /payment\.callback \(SERVER\) \[callback\] correlation=token_query delay_s=[\d.]+ refused=true error\.type=charset\.unsupported/);
    assert.equal(result.summary.health.callbacksRefused, 1);
    // The SDK failed in the browser: its error, by SDK name and version, and a checkout failed with the bank's code.
    assert.match(output, /payment\.checkout \[checkout\] outcome=failed reason=provider_error code=SDK_VERSION_RETIRED [^\n]*\n\s*└─ payment\.sdk createPayment \[sdk\] error\.type=DemoBankSdkError \+event payment\.sdk\.error \(demobank-js 2\.4\.0\) ERROR/);
    // The fault is that shopper's only: no other checkout's SDK call failed.
    assert.equal(output.match(/\+event payment\.sdk\.error/g)?.length, 1, output);
    assert.match(output, /payment\.return \[return\] context\.source=back_forward_cache/);
    // A reload of the return page: one more return in the flow's trace, marked as a reload.
    assert.match(output, /payment\.return \[return\] outcome=succeeded context\.source=reload/);
    // Paid again after Back: the retry is on the restored flow's payment.return, in the first trace.
    assert.match(output, /payment\.return \[return\] outcome=pending context\.source=back_forward_cache attempt=2 \+event payment\.retry/);
    // Abandoned after "waiting for the buyer": the stalled span says what the wallet last said.
    assert.match(output, /payment\.callback\.stalled \[stalled\] outcome=stalled provider\.status=WAIT_BUYER_PAY/);
    assert.match(output, /Success rate: 61\.5%/);
    assert.match(output, /Self-check: 13\/13 scenarios produced their expected trace/);
    assert.match(output, /Where to look: search payment\.trade_no = DEMO-\w+-1 … DEMO-\w+-13/);
  });
});
