import assert from 'node:assert/strict';
import * as registry from '@otel-checkout/semantic-conventions/incubating';
import { createRedactor } from '../../src/index.js';

describe('redaction and the registry', () => {
  const redactor = createRedactor();
  const attributeNames = Object.entries(registry)
    .filter(([constant, value]) => constant.startsWith('ATTR_') && typeof value === 'string')
    .map(([, value]) => value as string);

  it('finds the registered attribute names', () => {
    assert.ok(attributeNames.length > 20);
  });

  // A registered payment attribute that the denylist swallowed would silently vanish from
  // every trace; this fails as soon as the registry gains a name the rules would redact.
  it('never redacts a registered attribute for its name alone', () => {
    for (const name of attributeNames) {
      assert.equal(redactor.redactValue(name, 'succeeded'), 'succeeded', name);
      assert.equal(redactor.redactValue(name, 42), 42, name);
      assert.equal(redactor.redactValue(name, true), true, name);
    }
  });

  it('redactValue keeps a boolean as redactAttributes does, and still refuses a value that is no attribute', () => {
    assert.equal(redactor.redactValue('app.flag', true), true);
    assert.equal(redactor.redactValue('app.flag', false), false);
    const attributes = { 'app.flag': true };
    assert.equal(redactor.redactAttributes(attributes), 0);
    assert.deepEqual(attributes, { 'app.flag': true });
    assert.equal(redactor.redactValue('app.flag', { nested: 1 } as unknown as string), '[REDACTED]');
  });
});
