import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { typeCheckSnippets } from '@otel-checkout/test-support/readme-snippets';
import ts from 'typescript';

const packageDir = fileURLToPath(new URL('../..', import.meta.url));

/** An application's code calling `wrapSdk`, type-checked as the README's snippets are. */
function problemsOf(code: string): string[] {
  return typeCheckSnippets([{ line: 1, code }], {
    dir: packageDir,
    prelude: '',
    options: { target: ts.ScriptTarget.ES2020, lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'], types: [] },
    markdownName: 'snippet',
  });
}

const SETUP = `
import { checkout } from '@otel-checkout/web';
class AcmePay {
  version = '3.1.0';
  pay(order: { id: string }): Promise<string> { return Promise.resolve(order.id); }
  refund?: (id: string) => void;
}
const acme = new AcmePay();
const flow = checkout.begin();
`;

describe('wrapSdk methods: names TypeScript checks against the SDK', function () {
  this.timeout(60_000);

  it('compiles with the SDK’s method names (optional ones included), and with any strings for an SDK TypeScript knows nothing of', () => {
    assert.deepEqual(
      problemsOf(`${SETUP}
const traced: AcmePay = flow.wrapSdk(acme, { name: 'acme-pay', methods: ['pay', 'refund'] });
void traced.pay({ id: 'T-1' });
const names = ['pay'] as const;
flow.wrapSdk(acme, { name: 'acme-pay', methods: names });
declare const untyped: any;
declare const fromConfig: string[];
flow.wrapSdk(untyped, { name: 'legacy', methods: fromConfig });
declare const loose: Record<string, unknown>;
flow.wrapSdk(loose, { name: 'loose', methods: ['anything'] });
`),
      [],
    );
  });

  it('refuses a misspelt name and a property that is no method', () => {
    const problems = problemsOf(`${SETUP}
flow.wrapSdk(acme, { name: 'acme-pay', methods: ['payy'] });
flow.wrapSdk(acme, { name: 'acme-pay', methods: ['version'] });
`);
    assert.equal(problems.length, 2, problems.join('\n'));
    assert.match(problems[0], /TS(2322|2820) Type '"payy"' is not assignable to type '"pay" \| "refund"'/);
    assert.match(problems[1], /TS(2322|2820) Type '"version"' is not assignable/);
  });
});
