import * as assert from 'node:assert/strict';
import http from 'node:http';
import { propagation, ROOT_CONTEXT } from '@opentelemetry/api';
import { listenOnLoopback, startHttpServer } from '@otel-checkout/test-support';
import { httpPayments, payments } from '../../src/index.js';
import { HealthCounters } from '../../src/health.js';
import { HEALTH_BAGGAGE_DROPPED, HEALTH_MALFORMED_BAGGAGE, HEALTH_OVERSIZE_HEADERS } from '../../src/health-names.js';
import { resolveBaggageLimits } from '../../src/propagation/baggage-filter.js';
import { GuardedBaggagePropagator } from '../../src/propagation/guarded-baggage-propagator.js';
import { startTracingSession } from '../support/tracing-session.js';

interface BaggageCase {
  title: string;
  header: string;
  options?: Parameters<typeof resolveBaggageLimits>[0];
  kept: Record<string, string>;
  counters: Record<string, number>;
}

const COHORT = 'checkout.canary.cohort';
const RELEASE = 'checkout.release';

const cases: BaggageCase[] = [
  { title: 'allow-listed cohort and release are kept', header: `${COHORT}=canary,${RELEASE}=web-7`, kept: { [COHORT]: 'canary', [RELEASE]: 'web-7' }, counters: {} },
  { title: 'other keys are dropped and counted', header: `${COHORT}=canary,user.id=42,session=abc`, kept: { [COHORT]: 'canary' }, counters: { [HEALTH_BAGGAGE_DROPPED]: 2 } },
  { title: 'properties (metadata) are not carried on', header: `${RELEASE}=web-7;secret=1`, kept: { [RELEASE]: 'web-7' }, counters: {} },
  { title: 'an over-long value is dropped', header: `${RELEASE}=${'r'.repeat(129)}`, kept: {}, counters: { [HEALTH_BAGGAGE_DROPPED]: 1 } },
  {
    title: 'a release or cohort value not of its shape is dropped: it would be forwarded unread',
    header: `${COHORT}=4111111111111111,${RELEASE}=web%207%20card%204111111111111111`,
    kept: {},
    counters: { [HEALTH_BAGGAGE_DROPPED]: 2 },
  },
  {
    title: 'a release of the right shape that is a card number, or a custom key holding a secret pair, is dropped',
    header: `${RELEASE}=4111111111111111,tenant=eu%20token%3Dabc123,${COHORT}=stable`,
    options: { allowedKeys: ['tenant', RELEASE, COHORT] },
    kept: { [COHORT]: 'stable' },
    counters: { [HEALTH_BAGGAGE_DROPPED]: 2 },
  },
  {
    title: 'an allow-listed entry holding a bearer token under its own name is dropped',
    header: `tenant=Bearer%20eyJhbGciOiJIUzI1NiJ9,${COHORT}=stable`,
    options: { allowedKeys: ['tenant', COHORT] },
    kept: { [COHORT]: 'stable' },
    counters: { [HEALTH_BAGGAGE_DROPPED]: 1 },
  },
  {
    title: 'a custom allow-listed key keeps any value within the limits',
    header: `tenant=eu%20west,${COHORT}=stable`,
    options: { allowedKeys: ['tenant', COHORT] },
    kept: { tenant: 'eu west', [COHORT]: 'stable' },
    counters: {},
  },
  {
    title: 'entries beyond maxEntries are dropped',
    header: 'a=1,b=2,c=3',
    options: { allowedKeys: ['a', 'b', 'c'], maxEntries: 2 },
    kept: { a: '1', b: '2' },
    counters: { [HEALTH_BAGGAGE_DROPPED]: 1 },
  },
  { title: 'a custom allow-list replaces the default', header: `tenant=eu,${COHORT}=canary`, options: { allowedKeys: ['tenant'] }, kept: { tenant: 'eu' }, counters: { [HEALTH_BAGGAGE_DROPPED]: 1 } },
  { title: 'an oversize header is ignored whole', header: `${COHORT}=canary,pad=${'p'.repeat(9000)}`, kept: {}, counters: { [HEALTH_OVERSIZE_HEADERS]: 1, [HEALTH_BAGGAGE_DROPPED]: 1 } },
  { title: 'malformed members are counted, valid allow-listed ones kept', header: `=nokey,novalue,${COHORT}=stable`, kept: { [COHORT]: 'stable' }, counters: { [HEALTH_MALFORMED_BAGGAGE]: 1 } },
  { title: 'bad percent-encoding is counted, never thrown', header: `${RELEASE}=%E0%A4%A`, kept: {}, counters: { [HEALTH_MALFORMED_BAGGAGE]: 1 } },
  {
    title: 'a value with a character it must percent-encode (space, non-ASCII) is malformed',
    header: `${COHORT}=canary,note=two words,city=Z\u00fcrich`,
    kept: { [COHORT]: 'canary' },
    counters: { [HEALTH_MALFORMED_BAGGAGE]: 1, [HEALTH_BAGGAGE_DROPPED]: 2 },
  },
  { title: 'a malformed property makes its member malformed', header: `${COHORT}=canary;two words`, kept: { [COHORT]: 'canary' }, counters: { [HEALTH_MALFORMED_BAGGAGE]: 1 } },
  {
    title: 'a member over the 4096 characters the parser takes is dropped and counted',
    header: `${COHORT}=canary,note=${'n'.repeat(4100)}`,
    kept: { [COHORT]: 'canary' },
    counters: { [HEALTH_BAGGAGE_DROPPED]: 1 },
  },
  {
    title: 'members after the 180 the parser takes are dropped and counted',
    header: [...Array.from({ length: 180 }, (_, i) => `k${i}=${i}`), `${RELEASE}=web-7`, 'late=1'].join(','),
    kept: {},
    counters: { [HEALTH_BAGGAGE_DROPPED]: 182 },
  },
  { title: 'an empty value is a dropped entry', header: `${COHORT}=canary,${RELEASE}=`, kept: { [COHORT]: 'canary' }, counters: { [HEALTH_BAGGAGE_DROPPED]: 1 } },
  { title: 'optional whitespace around members, keys and values is allowed', header: ` ${COHORT} = canary ;\tp = 1 ,\t${RELEASE}=web-7`, kept: { [COHORT]: 'canary', [RELEASE]: 'web-7' }, counters: {} },
];

describe('untrusted baggage', () => {
  for (const testCase of cases) {
    it(testCase.title, () => {
      const health = new HealthCounters();
      const propagator = new GuardedBaggagePropagator(resolveBaggageLimits(testCase.options), health);
      const context = propagator.extract(ROOT_CONTEXT, { baggage: testCase.header });
      const entries = Object.fromEntries((propagation.getBaggage(context)?.getAllEntries() ?? []).map(([key, entry]) => [key, entry.value]));
      assert.deepEqual(entries, testCase.kept);
      for (const [name, count] of Object.entries(testCase.counters)) assert.equal(health.get(name), count, name);
      for (const name of [HEALTH_BAGGAGE_DROPPED, HEALTH_OVERSIZE_HEADERS, HEALTH_MALFORMED_BAGGAGE]) {
        if (!(name in testCase.counters)) assert.equal(health.get(name), 0, name);
      }
    });
  }

  it('forwards no properties of a kept entry, also when nothing was dropped', () => {
    const health = new HealthCounters();
    const propagator = new GuardedBaggagePropagator(resolveBaggageLimits(undefined), health);
    const context = propagator.extract(ROOT_CONTEXT, { baggage: `${COHORT}=canary;note=from-the-client,${RELEASE}=web-7;x` });
    assert.deepEqual(propagation.getBaggage(context)?.getAllEntries().map(([key, entry]) => [key, entry.metadata]), [[COHORT, undefined], [RELEASE, undefined]]);
    const carrier: Record<string, string> = {};
    propagator.inject(context, carrier, { set: (c, k, v) => ((c as Record<string, string>)[k] = v) });
    assert.equal(carrier.baggage, `${COHORT}=canary,${RELEASE}=web-7`);
    assert.equal(health.get(HEALTH_BAGGAGE_DROPPED), 0, 'properties are not entries');
  });

  it('injects only what is in the context', () => {
    const health = new HealthCounters();
    const propagator = new GuardedBaggagePropagator(resolveBaggageLimits(undefined), health);
    const context = propagator.extract(ROOT_CONTEXT, { baggage: `${COHORT}=canary,user.id=42` });
    const carrier: Record<string, string> = {};
    propagator.inject(context, carrier, { set: (c, k, v) => ((c as Record<string, string>)[k] = v) });
    assert.equal(carrier.baggage, `${COHORT}=canary`);
  });

  for (const mode of ['lean', 'default'] as const) {
    it(`${mode} mode: the payment provider gets a client's release and cohort only when they are of their shape`, async () => {
      const seen: string[] = [];
      const provider = await startHttpServer((req, res) => {
        seen.push(String(req.headers.baggage ?? ''));
        res.end('{}');
      });
      const session = await startTracingSession('memory', { instrumentHttp: mode === 'default' });
      const pay = httpPayments(async (_req, res) => {
        await payments.create({ tradeNo: 'T-BAG-1', provider: 'acme' }, (flow) =>
          flow.providerCall('charge', async (call) => (await fetch(`${provider.url}/charge`, { headers: call.inject<Record<string, string>>() })).text()),
        );
        res.end('ok');
      });
      const app = await listenOnLoopback(http.createServer((req, res) => void pay(req, res)));
      try {
        for (const baggage of [`${COHORT}=4111111111111111,${RELEASE}=card%204111111111111111`, `${COHORT}=canary,${RELEASE}=web-7`]) {
          assert.equal(await (await fetch(`${app.url}/pay`, { headers: { baggage } })).text(), 'ok');
        }
        assert.equal(seen.length, 2);
        assert.ok(!seen[0].includes('4111'), seen[0]);
        assert.equal(seen[0], '', 'nothing of the first header is forwarded');
        assert.deepEqual(seen[1].split(',').sort(), [`${COHORT}=canary`, `${RELEASE}=web-7`]);
      } finally {
        await app.close();
        await session.stop();
        await provider.close();
      }
    });
  }
});
