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

/** Per alert, the TraceQL quoted in its annotations, with the alert's label templates filled in. */
function queriesInAlerts(): Map<string, string[]> {
  const rules = parse(rulesText) as { groups: Array<{ rules: Array<{ alert?: string; annotations?: Record<string, string> }> }> };
  const alerts = rules.groups.flatMap((group) => group.rules).filter((rule) => rule.alert !== undefined);
  return new Map(
    alerts.map((rule) => [
      rule.alert!,
      Object.values(rule.annotations ?? {})
        .flatMap((text) => [...text.matchAll(/`(\{[^`]*)`/g)].map((match) => match[1]))
        .map((query) => query.replace(/\{\{ \$labels\.[a-z_]+ \}\}/g, 'example')),
    ]),
  );
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

  it('one at least in every alert, parsing and naming only registry names', () => {
    const byAlert = queriesInAlerts();
    assert.ok(byAlert.size >= 6);
    for (const [alert, queries] of byAlert) {
      assert.ok(queries.length > 0, `${alert} names no TraceQL query for the flows behind it`);
      for (const query of queries) assert.deepEqual(traceqlProblems(query), [], `${alert}: ${query}`);
    }
  });

  describe('the check rejects', () => {
    const cases: Array<[string, string, RegExp]> = [
      ['a syntax error', '{ span.payment.trade_no = }', /syntax error/],
      ['an attribute the registry does not have', '{ span.payment.tradeno = "T1" }', /payment\.tradeno/],
      ['an OpenTelemetry attribute no payment span or event carries', '{ span.error.typ = "x" }', /error\.typ/],
      ['a value an enum attribute does not have', '{ span.payment.outcome = "success" }', /"success" is not a value of `payment\.outcome`/],
      ['a value in a list of alternatives', '{ span.payment.stage =~ "callback|stall" }', /"stall" is not a value of `payment\.stage`/],
      ['a span name the registry does not have', '{ name = "payment.callback.stall" }', /payment\.callback\.stall/],
      ['an event name the registry does not have', '{ event:name = "payment.sdk.failure" }', /payment\.sdk\.failure/],
      ['a double attribute compared with an integer, which Tempo never matches', '{ span.payment.callback.delay > 300 }', /compare it with a float/],
      [
        'a resource attribute the collector does not keep',
        '{ name = "payment.checkout" && resource.deployment.enviroment.name = "production" }',
        /`resource\.deployment\.enviroment\.name` is not a resource attribute/,
      ],
    ];
    for (const [what, query, problem] of cases) {
      it(what, () => {
        const problems = traceqlProblems(query);
        assert.ok(problems.some((p) => problem.test(p)), `${query}: ${JSON.stringify(problems)}`);
      });
    }
  });
});
