import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import {
  ATTR_CHECKOUT_CANARY_BUCKET,
  ATTR_CHECKOUT_CANARY_COHORT,
  ATTR_CHECKOUT_RELEASE,
  CHECKOUT_CANARY_COHORT_VALUE_CANARY,
  CHECKOUT_CANARY_COHORT_VALUE_STABLE,
} from '@otel-checkout/semantic-conventions/incubating';
import {
  CANARY_BAGGAGE_KEYS,
  canaryAttributes,
  canaryBaggageEntries,
  cohortOf,
  cohortOptionsProblems,
  fnv1a32,
  readCanaryBaggage,
} from '../src/index.js';
import { utf8Bytes } from '../src/utf8.js';

interface CohortVector {
  note: string;
  id: string;
  salt: string;
  percent: number;
  utf8Hex: string | null;
  hash: number | null;
  bucket: number;
  cohort: string;
}

const vectors = JSON.parse(readFileSync(new URL('./vectors/cohort.json', import.meta.url), 'utf8')) as {
  cases: CohortVector[];
};

describe('cohortOf', () => {
  describe('checked-in vectors (computed by an independent implementation)', () => {
    it('has enough cases to cover the edge cases', () => {
      assert.ok(vectors.cases.length >= 30);
    });
    for (const v of vectors.cases) {
      it(`${v.note}: ${JSON.stringify(v.id).slice(0, 40)} salt ${JSON.stringify(v.salt)} at ${v.percent}%`, () => {
        if (v.utf8Hex !== null) {
          const hex = Array.from(utf8Bytes(`${v.salt}:${v.id}`))
            .map((b) => b.toString(16).padStart(2, '0'))
            .join('');
          assert.equal(hex, v.utf8Hex);
          assert.equal(fnv1a32(`${v.salt}:${v.id}`), v.hash);
        }
        assert.deepEqual(cohortOf(v.id, { salt: v.salt, percent: v.percent }), { bucket: v.bucket, cohort: v.cohort });
      });
    }
  });

  it('encodes UTF-8 as Node’s Buffer does, a lone surrogate as U+FFFD', () => {
    assert.deepEqual(Array.from(utf8Bytes('a\ud800b')), [0x61, 0xef, 0xbf, 0xbd, 0x62]);
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        assert.deepEqual(Array.from(utf8Bytes(s)), Array.from(Buffer.from(s, 'utf8')));
      }),
      { numRuns: 500 },
    );
  });

  it('keeps every user in the same bucket whatever the percentage, and only moves users towards canary as it rises', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string(), fc.integer({ min: 0, max: 99 }), (id, salt, percent) => {
        const lower = cohortOf(id, { salt, percent });
        const higher = cohortOf(id, { salt, percent: percent + 1 });
        assert.equal(lower.bucket, higher.bucket);
        assert.ok(lower.bucket >= 0 && lower.bucket <= 99 && Number.isInteger(lower.bucket));
        if (lower.cohort === CHECKOUT_CANARY_COHORT_VALUE_CANARY) assert.equal(higher.cohort, CHECKOUT_CANARY_COHORT_VALUE_CANARY);
      }),
    );
  });

  it('spreads users roughly evenly over the buckets', () => {
    const counts = new Array<number>(100).fill(0);
    for (let i = 0; i < 20000; i++) counts[cohortOf(`user-${i}`, { salt: 's' }).bucket]++;
    assert.ok(Math.min(...counts) > 120 && Math.max(...counts) < 290, `bucket counts ${Math.min(...counts)}..${Math.max(...counts)}`);
  });

  it('never throws on bad options and treats a broken percentage as 0', () => {
    const bad = [NaN, Infinity, -Infinity, '50' as unknown as number, undefined];
    for (const percent of bad) {
      assert.equal(cohortOf('user-1', { salt: 'x', percent }).cohort, CHECKOUT_CANARY_COHORT_VALUE_STABLE);
    }
    assert.deepEqual(cohortOf(undefined as unknown as string, { percent: 100 }), {
      bucket: 99,
      cohort: CHECKOUT_CANARY_COHORT_VALUE_STABLE,
    });
    assert.equal(cohortOf('user-1', { salt: 7 as unknown as string, percent: 100 }).cohort, CHECKOUT_CANARY_COHORT_VALUE_CANARY);
  });

  it('describes bad options so the setup can warn', () => {
    assert.deepEqual(cohortOptionsProblems({ salt: 'a', percent: 10 }), []);
    assert.deepEqual(cohortOptionsProblems(undefined), []);
    assert.match(cohortOptionsProblems({ percent: 120 })[0], /outside 0\.\.100; clamped to 100/);
    assert.match(cohortOptionsProblems({ percent: NaN })[0], /not a finite number/);
    assert.match(cohortOptionsProblems({ salt: 1 as unknown as string })[0], /salt is not a string/);
  });
});

describe('canary baggage and attributes', () => {
  it('writes the release and cohort under the registered keys', () => {
    assert.deepEqual(canaryBaggageEntries({ release: 'web-2026.11.3', cohort: CHECKOUT_CANARY_COHORT_VALUE_CANARY, bucket: 4 }), {
      [ATTR_CHECKOUT_RELEASE]: { value: 'web-2026.11.3' },
      [ATTR_CHECKOUT_CANARY_COHORT]: { value: CHECKOUT_CANARY_COHORT_VALUE_CANARY },
    });
    assert.deepEqual([...CANARY_BAGGAGE_KEYS], [ATTR_CHECKOUT_RELEASE, ATTR_CHECKOUT_CANARY_COHORT]);
  });

  it('leaves out values that would not survive the trip', () => {
    assert.deepEqual(canaryBaggageEntries({ release: 'has space', cohort: 'beta' as never }), {});
    assert.deepEqual(canaryBaggageEntries({ release: 'x'.repeat(129) }), {});
    assert.deepEqual(canaryBaggageEntries({}), {});
  });

  it('reads back only well-formed values from untrusted baggage', () => {
    const baggage: Record<string, string> = {
      [ATTR_CHECKOUT_RELEASE]: 'api-1.4.0+sha.9f2c',
      [ATTR_CHECKOUT_CANARY_COHORT]: CHECKOUT_CANARY_COHORT_VALUE_STABLE,
    };
    assert.deepEqual(readCanaryBaggage((k) => baggage[k]), {
      release: 'api-1.4.0+sha.9f2c',
      cohort: CHECKOUT_CANARY_COHORT_VALUE_STABLE,
    });
    const hostile: Record<string, string> = {
      [ATTR_CHECKOUT_RELEASE]: '<script>alert(1)</script>',
      [ATTR_CHECKOUT_CANARY_COHORT]: 'CANARY',
    };
    assert.deepEqual(readCanaryBaggage((k) => hostile[k]), {});
    assert.deepEqual(
      readCanaryBaggage(() => {
        throw new Error('broken baggage');
      }),
      {},
    );
  });

  it('round-trips through the entries it writes', () => {
    const entries = canaryBaggageEntries({ release: 'r1', cohort: CHECKOUT_CANARY_COHORT_VALUE_CANARY });
    assert.deepEqual(readCanaryBaggage((k) => entries[k]?.value), { release: 'r1', cohort: CHECKOUT_CANARY_COHORT_VALUE_CANARY });
  });

  it('builds span attributes including the bucket', () => {
    const { bucket, cohort } = cohortOf('user-1', { salt: 'rollout-2026-11', percent: 10 });
    assert.deepEqual(canaryAttributes({ release: 'r1', bucket, cohort }), {
      [ATTR_CHECKOUT_RELEASE]: 'r1',
      [ATTR_CHECKOUT_CANARY_COHORT]: cohort,
      [ATTR_CHECKOUT_CANARY_BUCKET]: bucket,
    });
    assert.deepEqual(canaryAttributes({ bucket: 100 }), {});
  });
});
