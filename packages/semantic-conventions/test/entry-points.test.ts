import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import * as stableEntry from '@otel-checkout/semantic-conventions';
import * as incubatingEntry from '@otel-checkout/semantic-conventions/incubating';
import { loadModelSources, PACKAGE_ROOT, validateModel } from '../scripts/validate.js';
import { attributeConstant, spanNameConstant } from '../scripts/naming.js';

type Names = Record<string, string | number>;

/** Every name and value exported by an earlier version; a removed or changed one breaks users. */
const released = JSON.parse(readFileSync(join(PACKAGE_ROOT, 'test/fixtures/released-names.json'), 'utf8')) as Record<
  '.' | './incubating',
  Names
>;

describe('entry points', () => {
  const stable = { ...stableEntry } as Names;
  const incubating = { ...incubatingEntry } as Names;

  it('keep every released name with its value', () => {
    for (const [entry, exported] of [['.', stable], ['./incubating', incubating]] as const) {
      for (const [name, value] of Object.entries(released[entry])) {
        assert.equal(exported[name], value, `${entry} export ${name}`);
      }
    }
  });

  it('export names only: strings and numbers, no functions or objects', () => {
    for (const [name, value] of Object.entries(incubating)) {
      assert.ok(typeof value === 'string' || typeof value === 'number', `${name} is a ${typeof value}`);
    }
  });

  it('`.` exports the stable names and `./incubating` the stable and development names', () => {
    for (const [name, value] of Object.entries(stable)) assert.equal(incubating[name], value, name);
    const registry = validateModel(loadModelSources());
    for (const attr of registry.attributes.values()) {
      const constant = attributeConstant(attr.id);
      assert.equal(incubating[constant], attr.id);
      assert.equal(constant in stable, attr.stability === 'stable', `${constant} in '.'`);
    }
    for (const span of registry.spans) {
      assert.equal(incubating[spanNameConstant(span.spanName)], span.spanName);
      assert.equal(spanNameConstant(span.spanName) in stable, span.stability === 'stable');
    }
  });

  it('mark the core identifiers, enums and span names stable', () => {
    for (const name of [
      'ATTR_PAYMENT_TRADE_NO',
      'ATTR_PAYMENT_ORDER_ID',
      'ATTR_PAYMENT_MERCHANT_ID',
      'ATTR_PAYMENT_PROVIDER',
      'ATTR_PAYMENT_METHOD',
      'ATTR_PAYMENT_AMOUNT',
      'ATTR_PAYMENT_CURRENCY',
      'ATTR_PAYMENT_STAGE',
      'ATTR_PAYMENT_OUTCOME',
      'ATTR_PAYMENT_FAILURE_REASON',
      'ATTR_PAYMENT_FAILURE_CODE',
      'PAYMENT_OUTCOME_VALUE_STALLED',
      'SPAN_NAME_PAYMENT_CALLBACK_STALLED',
    ]) {
      assert.ok(name in stable, name);
    }
    assert.ok(!('ATTR_PAYMENT_PROVIDER_STATUS' in stable));
    assert.ok(!('METRIC_PAYMENT_FLOWS' in stable));
  });

  // What a user's compiler sees: the built declarations, found through `exports` (node16,
  // bundler) or, for the older resolution that ignores `exports`, through `typesVersions`.
  for (const [label, options] of [
    ['node10 (CommonJS)', { module: ts.ModuleKind.CommonJS, moduleResolution: ts.ModuleResolutionKind.Node10 }],
    ['node16', { module: ts.ModuleKind.Node16, moduleResolution: ts.ModuleResolutionKind.Node16 }],
    ['bundler', { module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler }],
  ] as const) {
    it(`resolve with their types under ${label} module resolution`, function () {
      this.timeout(60_000);
      const consumer = join(PACKAGE_ROOT, 'test/fixtures/consumer/consumer.ts');
      const program = ts.createProgram([consumer], { ...options, strict: true, noEmit: true, skipLibCheck: false, types: [] });
      const problems = ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      assert.deepEqual(problems, []);
      const declarations = program.getSourceFiles().map((file) => file.fileName).filter((name) => name.includes('/build/'));
      assert.ok(declarations.some((name) => name.endsWith('index-incubating.d.ts')), declarations.join(', '));
    });
  }
});
