import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { traceqlProblems } from './support/traceql.js';

interface SavedQuery {
  name: string;
  when: string;
  query: string;
}

const saved = (parse(readFileSync(new URL('../tempo/traceql-queries.yaml', import.meta.url), 'utf8')) as { queries: SavedQuery[] }).queries;
const rulesText = readFileSync(new URL('../prometheus/payment-rules.yaml', import.meta.url), 'utf8');
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

/** TraceQL quoted in the alerts' descriptions, with the alert's label templates filled in. */
function queriesInAlerts(): string[] {
  const rules = parse(rulesText) as { groups: Array<{ rules: Array<{ annotations?: Record<string, string> }> }> };
  return rules.groups
    .flatMap((group) => group.rules)
    .flatMap((rule) => Object.values(rule.annotations ?? {}))
    .flatMap((text) => [...text.matchAll(/`(\{[^`]*\})`/g)].map((match) => match[1]))
    .map((query) => query.replace(/\{\{ \$labels\.[a-z_]+ \}\}/g, 'example'));
}

describe('TraceQL queries', () => {
  describe('saved for on-call (tempo/traceql-queries.yaml)', () => {
    for (const { name, when, query } of saved) {
      it(`${name}: parses and names only registry attributes, values, spans and events`, () => {
        assert.ok(when.length > 10, 'says when to use it');
        assert.deepEqual(traceqlProblems(query), []);
      });
    }

    it('are all in the README', () => {
      for (const { name, query } of saved) {
        assert.ok(readme.includes(query), `README.md shows "${name}"`);
      }
    });
  });

  it('quoted in the alerts parse and name only registry names', () => {
    const queries = queriesInAlerts();
    assert.ok(queries.length >= 3, 'the page-worthy alerts point to a query');
    for (const query of queries) assert.deepEqual(traceqlProblems(query), [], query);
  });

  describe('the check rejects', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['a syntax error', '{ span.payment.trade_no = }', /syntax error/],
      ['an attribute the registry does not have', '{ span.payment.tradeno = "T1" }', /payment\.tradeno/],
      ['a value an enum attribute does not have', '{ span.payment.outcome = "success" }', /"success" is not a value of `payment\.outcome`/],
      ['a span name the registry does not have', '{ name = "payment.callback.stall" }', /payment\.callback\.stall/],
      ['an event name the registry does not have', '{ event:name = "payment.sdk.failure" }', /payment\.sdk\.failure/],
    ];
    for (const [what, query, problem] of cases) {
      it(what, () => {
        const problems = traceqlProblems(query);
        assert.ok(problems.some((p) => problem.test(p)), `${query}: ${JSON.stringify(problems)}`);
      });
    }
  });
});
