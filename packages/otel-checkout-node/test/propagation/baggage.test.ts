import * as assert from 'node:assert/strict';
import { propagation, ROOT_CONTEXT } from '@opentelemetry/api';
import { HealthCounters } from '../../src/health.js';
import { HEALTH_BAGGAGE_DROPPED, HEALTH_MALFORMED_BAGGAGE, HEALTH_OVERSIZE_HEADERS } from '../../src/health-names.js';
import { resolveBaggageLimits } from '../../src/propagation/baggage-filter.js';
import { GuardedBaggagePropagator } from '../../src/propagation/guarded-baggage-propagator.js';

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

  it('injects only what is in the context', () => {
    const health = new HealthCounters();
    const propagator = new GuardedBaggagePropagator(resolveBaggageLimits(undefined), health);
    const context = propagator.extract(ROOT_CONTEXT, { baggage: `${COHORT}=canary,user.id=42` });
    const carrier: Record<string, string> = {};
    propagator.inject(context, carrier, { set: (c, k, v) => ((c as Record<string, string>)[k] = v) });
    assert.equal(carrier.baggage, `${COHORT}=canary`);
  });
});
