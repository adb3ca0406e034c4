import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type * as Errors from '../../src/errors.js';

describe('errors in a minified bundle', () => {
  it('keep their names, so a page can compare error.name after its bundler renamed the classes', async () => {
    const bundled = await build({
      entryPoints: [fileURLToPath(new URL('../../src/errors.ts', import.meta.url))],
      bundle: true,
      minify: true,
      format: 'esm',
      target: 'es2020',
      write: false,
      logLevel: 'silent',
    });
    const code = bundled.outputFiles[0].text;
    const { CheckoutTracingError, InvalidArgumentError } = (await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`)) as typeof Errors;
    // The bundler did rename them: otherwise this test would prove nothing.
    assert.doesNotMatch(code, /class InvalidArgumentError/);
    const error = new InvalidArgumentError('query needs a function');
    assert.equal(error.name, 'InvalidArgumentError');
    assert.equal(String(error), 'InvalidArgumentError: query needs a function');
    assert.ok(error instanceof CheckoutTracingError && error instanceof Error);
    assert.equal(new CheckoutTracingError('x').name, 'CheckoutTracingError');
  });
});
