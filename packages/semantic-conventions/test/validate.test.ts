import assert from 'node:assert/strict';
import { ModelValidationError, SemanticConventionsError } from '../scripts/errors.js';
import type { ModelProblem } from '../scripts/errors.js';
import { loadModelSources, validateModel } from '../scripts/validate.js';
import { fixture } from './fixtures.js';

/** Validates one fixture and returns the problems it must have produced. */
function problemsOf(name: string): readonly ModelProblem[] {
  try {
    validateModel([fixture(name)]);
  } catch (error) {
    assert.ok(error instanceof ModelValidationError, `expected a ModelValidationError, got ${String(error)}`);
    assert.ok(error instanceof SemanticConventionsError);
    assert.equal(error.name, 'ModelValidationError');
    return error.problems;
  }
  assert.fail(`test/fixtures/${name} was accepted`);
}

/** Asserts that a problem names the fixture file and the id, and that the message says what is wrong. */
function assertProblem(name: string, id: string, message: RegExp): void {
  const problems = problemsOf(name);
  const match = problems.find((p) => p.file === `test/fixtures/${name}` && p.id === id && message.test(p.message));
  assert.ok(
    match,
    `no problem for test/fixtures/${name} / ${id} matching ${String(message)}; got:\n${problems
      .map((p) => `  ${p.file}: ${p.id}: ${p.message}`)
      .join('\n')}`,
  );
  // The thrown message carries the same facts for people reading a terminal.
  try {
    validateModel([fixture(name)]);
  } catch (error) {
    assert.match((error as Error).message, new RegExp(`test/fixtures/${name}: ${id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
  }
}

describe('validator', () => {
  it('accepts the checked-in model', () => {
    const registry = validateModel(loadModelSources());
    assert.ok(registry.attributes.has('payment.trade_no'));
    assert.ok(registry.spans.some((s) => s.spanName === 'payment.callback.stalled'));
  });

  it('accepts a small valid model, including references to OpenTelemetry attributes', () => {
    const registry = validateModel([fixture('valid.yaml')]);
    assert.deepEqual([...registry.attributes.keys()], ['payment.fixture.outcome', 'checkout.fixture.retries']);
    assert.deepEqual(registry.spans[0]?.attributes.map((a) => a.ref), ['payment.fixture.outcome', 'server.address']);
    assert.deepEqual(registry.spans[0]?.attributes[1]?.requirementLevel, { conditionally_required: 'when known' });
  });

  it('rejects an unknown key', () => {
    assertProblem('unknown-key.yaml', 'payment.colour', /unknown key 'exampels' in an attribute \(did you mean 'examples'\?\)/);
  });

  it('rejects a duplicate attribute id', () => {
    assertProblem('duplicate-id.yaml', 'payment.reference', /duplicate attribute id \(first defined in test\/fixtures\/duplicate-id\.yaml/);
  });

  it('rejects a duplicate group id across files', () => {
    const a = fixture('valid.yaml');
    const b = { file: 'test/fixtures/valid-copy.yaml', text: a.text };
    try {
      validateModel([a, b]);
      assert.fail('accepted a duplicate group id');
    } catch (error) {
      assert.ok(error instanceof ModelValidationError);
      assert.ok(
        error.problems.some(
          (p) =>
            p.file === 'test/fixtures/valid-copy.yaml' &&
            p.id === 'registry.payment.fixture' &&
            /duplicate group id/.test(p.message),
        ),
      );
    }
  });

  it('rejects a bad type', () => {
    assertProblem('bad-type.yaml', 'payment.total', /bad type "integer"/);
  });

  it('rejects an example that does not match the type', () => {
    assertProblem('bad-example.yaml', 'payment.installments', /bad type: example "three" does not match the attribute type/);
  });

  it('rejects a bad requirement level, span kind or instrument', () => {
    assertProblem('bad-requirement-level.yaml', 'span.payment.bad_requirement', /ref 'server\.address': bad requirement_level "mandatory"/);
    assertProblem('bad-span-kind.yaml', 'span.payment.bad_kind', /bad span_kind 'outgoing'/);
    assertProblem('bad-instrument.yaml', 'metric.payment.bad_instrument', /bad instrument 'meter'/);
  });

  it('rejects two spans with the same name', () => {
    assertProblem('duplicate-span-name.yaml', 'span.payment.second', /duplicate span name 'payment\.twice' \(first defined by span\.payment\.first\)/);
  });

  it('rejects an enum member without a value', () => {
    assertProblem('enum-member-without-value.yaml', 'payment.channel', /enum member 'app': has no value/);
  });

  it('rejects a span that refers to an undefined attribute', () => {
    assertProblem('undefined-ref-span.yaml', 'span.payment.undefined_ref', /undefined attribute 'payment\.not_defined'/);
  });

  it('rejects a metric that refers to an undefined attribute', () => {
    assertProblem('undefined-ref-metric.yaml', 'metric.payment.undefined_ref', /undefined attribute 'payment\.not_defined'/);
  });

  it('rejects an event that refers to an undefined attribute', () => {
    assertProblem('undefined-ref-event.yaml', 'event.payment.undefined_ref', /undefined attribute 'payment\.not_defined'/);
  });

  it('rejects a payment.* name that shadows an OpenTelemetry attribute', () => {
    assertProblem('shadows-opentelemetry.yaml', 'payment.server.address', /shadows the OpenTelemetry attribute 'server\.address'/);
  });

  it('takes the OpenTelemetry names from the installed @opentelemetry/semantic-conventions', () => {
    const registry = validateModel(loadModelSources());
    for (const name of ['http.response.status_code', 'url.full', 'error.type', 'service.version', 'user.hash', 'exception.message']) {
      assert.ok(registry.externalAttributes.has(name), name);
    }
  });

  it('rejects a bad stability value', () => {
    assertProblem('bad-stability.yaml', 'payment.channel', /bad stability "experimental" \(one of: stable, development\)/);
  });

  it('rejects an attribute defined outside payment.* and checkout.*', () => {
    assertProblem('outside-namespace.yaml', 'http.request.payment_header', /outside the payment\.\* and checkout\.\* namespaces/);
  });

  it('rejects a metric dimension whose cardinality is not stated', () => {
    assertProblem('metric-dimension-without-cardinality.yaml', 'metric.payment.by_shop', /'payment\.shop' does not state its cardinality/);
  });

  it('rejects two names that generate the same constant', () => {
    assertProblem('colliding-constants.yaml', 'payment.fee.total', /constant ATTR_PAYMENT_FEE_TOTAL .* collides/);
  });

  it('reports a file that is not YAML instead of throwing a parser error', () => {
    assertProblem('not-yaml.yaml', '(file)', /not valid YAML/);
  });

  it('reports every problem of a file at once', () => {
    const problems = problemsOf('enum-member-without-value.yaml');
    assert.equal(problems.length, 1);
    const several = (() => {
      try {
        validateModel([fixture('bad-type.yaml'), fixture('bad-stability.yaml'), fixture('unknown-key.yaml')]);
      } catch (error) {
        return (error as ModelValidationError).problems;
      }
      return [];
    })();
    assert.deepEqual(
      several.map((p) => p.file),
      ['test/fixtures/bad-type.yaml', 'test/fixtures/bad-stability.yaml', 'test/fixtures/unknown-key.yaml'],
    );
  });
});
