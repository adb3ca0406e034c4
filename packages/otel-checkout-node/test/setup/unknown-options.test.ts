import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { join } from 'node:path';
import { startOtlpReceiver } from '@otel-checkout/test-support';
import type { OtlpReceiver } from '@otel-checkout/test-support';
import { HEALTH_CONFIG_PROBLEMS, payments, startCheckoutTracing } from '../../src/index.js';
import type { NodeTracingHandle } from '../../src/index.js';
import { DEADLINE_RULE_OPTION_NAMES, FLOWS_OPTION_NAMES, KEY_OPTION_NAMES, KEYS_OPTION_NAMES, SWEEPER_OPTION_NAMES } from '../../src/flows/flows.js';
import { BAGGAGE_OPTION_NAMES, COHORT_OPTION_NAMES, OPTION_NAMES } from '../../src/setup/option-checks.js';
import { REDACTION_OPTION_NAMES } from '../../src/redaction/redaction-option-checks.js';
import { captureWarnings } from '../support/capture-warnings.js';

// The package's own lists of option names are typed over the options' types (an option added to
// a type and not to its list fails the type check); the tests below show the package takes them.

const SECRET = 'a-secret-of-32-characters-length';

/** An object with every name of `names`, each unset (`undefined`), and `given` over them. */
function everyName(names: Record<string, true>, given: Record<string, unknown> = {}): Record<string, unknown> {
  return { ...Object.fromEntries(Object.keys(names).map((name) => [name, undefined])), ...given };
}

const README = readFileSync(join(import.meta.dirname, '..', '..', 'README.md'), 'utf8');

/** The names in the first column of the first table after `marker` in the README. */
function readmeTableNames(marker: string): string[] {
  const at = README.indexOf(marker);
  assert.ok(at >= 0, `no "${marker}" in the README`);
  const lines = README.slice(at).split('\n');
  const first = lines.findIndex((line) => line.startsWith('| name |'));
  const rows = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(/^\| `([^`]+)` \|/.exec(line)?.[1] ?? line);
  }
  return rows;
}

describe('startCheckoutTracing: option names it does not know', () => {
  let receiver: OtlpReceiver;
  let handle: NodeTracingHandle | undefined;
  let captured: ReturnType<typeof captureWarnings>;

  beforeEach(async () => {
    receiver = await startOtlpReceiver();
    captured = captureWarnings();
  });
  afterEach(async () => {
    captured.restore();
    await handle?.shutdown();
    handle = undefined;
    await receiver.close();
  });

  const start = (options: Record<string, unknown>): NodeTracingHandle =>
    (handle = startCheckoutTracing({ endpoint: receiver.tracesUrl, instrumentHttp: false, ...options }));
  const saidOf = (option: string): string[] => captured.warnings.filter((w) => w.includes(`option ${option} is not a known option; ignored`));
  const unknownSaid = (): string[] => captured.warnings.filter((w) => /not a known option|not known options/.test(w));

  it('an unknown top-level name and an unknown nested name are each said once and counted; the rest applies', async () => {
    const tracing = start({ servicename: 'checkout-api', release: 'api-1.2.3', flows: { keys: { current: { id: 'k1', secret: SECRET } }, sweeper: { intervalMS: 20 } } });
    assert.equal(tracing.mode, 'lean');
    assert.equal(tracing.health()[HEALTH_CONFIG_PROBLEMS], 2);
    assert.equal(saidOf('servicename').length, 1, captured.warnings.join('\n'));
    assert.equal(saidOf('flows.sweeper.intervalMS').length, 1, captured.warnings.join('\n'));
    assert.equal(unknownSaid().length, 2, captured.warnings.join('\n'));
    // The known options next to them are in force: the flow keys sign, the release is recorded.
    const url = await payments.create({ tradeNo: 'U-1' }, (flow) => flow.returnUrl('https://shop.example/r'));
    assert.match(url, /otc_flow=/);
    await tracing.flush();
    const create = await receiver.waitForSpan((span) => span.name === 'payment.create');
    assert.equal(create.attributes['checkout.release'], 'api-1.2.3');
  });

  it('in every nested object the package reads: each unknown name said once, with its place, and counted', () => {
    const tracing = start({
      baggage: { maxEntrys: 4 },
      cohort: { precent: 10 },
      redaction: { sensitivekeys: ['x-internal-ref'] },
      flows: {
        tokenparam: 'ref',
        keys: { current: { id: 'k1', secret: SECRET, secert: SECRET }, previos: [] },
        deadlines: { defualt: 60, rules: [{ provder: 'slowbank', seconds: 7200 }] },
        sweeper: { leaseMS: 1000 },
      },
    });
    const expected = [
      'baggage.maxEntrys',
      'cohort.precent',
      'redaction.sensitivekeys',
      'flows.tokenparam',
      'flows.keys.previos',
      'flows.keys.current.secert',
      'flows.deadlines.defualt',
      'flows.deadlines.rules.provder',
      'flows.sweeper.leaseMS',
    ];
    for (const option of expected) assert.equal(saidOf(option).length, 1, `${option}:\n${captured.warnings.join('\n')}`);
    assert.equal(unknownSaid().length, expected.length, captured.warnings.join('\n'));
    assert.equal(tracing.health()[HEALTH_CONFIG_PROBLEMS], expected.length);
    // No value is said with them: not the secret, not the rule's provider.
    assert.ok(!captured.warnings.some((w) => w.includes(SECRET) || w.includes('slowbank')), captured.warnings.join('\n'));
  });

  it('a name not shaped like an option name (a value where a name belongs) is counted, and said without being shown', () => {
    const token = 'sk_live_51HxAbCdEfGhIjKlMnOpQrStUvWxYz0123456789';
    const tracing = start({ [token]: true, 'Bearer eyJhbGciOiJIUzI1NiJ9': true, baggage: { 'x-tenant=shop-eu': true } });
    assert.equal(tracing.health()[HEALTH_CONFIG_PROBLEMS], 3);
    const said = unknownSaid();
    assert.equal(said.length, 2, captured.warnings.join('\n'));
    assert.ok(said.some((w) => w.includes('options have 2 names that are not known options (not shown')), said.join('\n'));
    assert.ok(said.some((w) => w.includes('option baggage has a name that is not a known option (not shown')), said.join('\n'));
    for (const secret of [token, 'eyJhbGciOiJIUzI1NiJ9', 'shop-eu']) assert.ok(!captured.warnings.some((w) => w.includes(secret)), captured.warnings.join('\n'));
  });

  it('every name of the options types is known: none is reported', () => {
    const tracing = start(
      everyName(OPTION_NAMES, {
        endpoint: receiver.tracesUrl,
        instrumentHttp: false,
        baggage: everyName(BAGGAGE_OPTION_NAMES),
        cohort: everyName(COHORT_OPTION_NAMES),
        redaction: everyName(REDACTION_OPTION_NAMES),
        flows: everyName(FLOWS_OPTION_NAMES, {
          keys: everyName(KEYS_OPTION_NAMES, { current: everyName(KEY_OPTION_NAMES, { id: 'k1', secret: SECRET }), previous: [everyName(KEY_OPTION_NAMES, { id: 'k0', secret: SECRET })] }),
          deadlines: { default: 60, rules: [everyName(DEADLINE_RULE_OPTION_NAMES, { seconds: 60 })] },
          sweeper: everyName(SWEEPER_OPTION_NAMES),
        }),
      }),
    );
    assert.deepEqual(unknownSaid(), []);
    assert.equal(tracing.health()[HEALTH_CONFIG_PROBLEMS], 0, captured.warnings.join('\n'));
  });

  it("the README's options tables document exactly these names", () => {
    assert.deepEqual(readmeTableNames('## Options (`startCheckoutTracing(options)`)').sort(), Object.keys(OPTION_NAMES).sort());
    assert.deepEqual(readmeTableNames('### `BaggageOptions`').sort(), Object.keys(BAGGAGE_OPTION_NAMES).sort());
    assert.deepEqual(readmeTableNames('`FlowsOptions` (`startCheckoutTracing({ flows })`)').sort(), Object.keys(FLOWS_OPTION_NAMES).sort());
    assert.deepEqual(readmeTableNames('`StalledSweeperOptions`:').sort(), Object.keys(SWEEPER_OPTION_NAMES).sort());
  });

  it('redaction rules of the wrong type are each said and counted; a list given as one string masks that name', async () => {
    const tracing = start({
      redaction: { sensitiveKeys: 'x-mine', sensitiveQueryParameters: ['ref', 7, ''], exemptKeys: 42, enabled: 'false', onRedaction: 'log' },
    });
    const expected = [
      'option redaction.sensitiveKeys is a string, not a list of names; read as a list of that one name',
      'option redaction.sensitiveQueryParameters has 2 entries that are not names (non-empty strings); left out',
      'option redaction.exemptKeys is not a list of names (number); ignored',
      'option redaction.enabled is not a boolean (string); the rule stays on',
      'option redaction.onRedaction is not a function (string); ignored',
    ];
    for (const text of expected) assert.equal(captured.warnings.filter((w) => w.includes(text)).length, 1, `${text}:\n${captured.warnings.join('\n')}`);
    assert.equal(tracing.health()[HEALTH_CONFIG_PROBLEMS], expected.length);
    const span = trace.getTracer('app').startSpan('work', {}, ROOT_CONTEXT);
    span.setAttributes({ 'x-mine': 'hunter2', 'url.full': 'https://shop.example/r?ref=R-1&page=2', 'app.card': '4111111111111111' });
    span.end();
    await tracing.flush();
    const work = await receiver.waitForSpan((s) => s.name === 'work');
    assert.equal(work.attributes['x-mine'], '[REDACTED]');
    assert.equal(work.attributes['url.full'], 'https://shop.example/r?ref=REDACTED&page=2');
    assert.equal(work.attributes['app.card'], '************1111', 'enabled: "false" leaves the rules on');
  });

  it('a cohort that is not an object is rejected, counted and said once; tracing starts', async () => {
    const tracing = start({ cohort: null });
    assert.equal(tracing.mode, 'lean');
    assert.equal(tracing.health()[HEALTH_CONFIG_PROBLEMS], 1);
    assert.equal(captured.warnings.filter((w) => w.includes('option cohort is not an object')).length, 1, captured.warnings.join('\n'));
    assert.equal(await payments.create({ tradeNo: 'C-1' }, () => 'ran'), 'ran');
  });
});
