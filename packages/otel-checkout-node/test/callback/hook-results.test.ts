import assert from 'node:assert/strict';
import express from 'express';
import { listenOnLoopback } from '@otel-checkout/test-support';
import type { StartedHttpServer } from '@otel-checkout/test-support';
import { createServer } from 'node:http';
import { expressCallback } from '../../src/index.js';
import type { CallbackOptions, Flows } from '../../src/index.js';
import type { HealthCounters } from '../../src/health.js';
import { Harness } from './harness.js';
import { captureWarnings } from '../support/capture-warnings.js';

describe('callback status and outcome hooks: an answer of the wrong kind is counted and said once', () => {
  const harness = new Harness();
  let flows: Flows;
  let health: HealthCounters;
  let server: StartedHttpServer | undefined;

  before(() => harness.install());
  after(() => harness.uninstall());
  beforeEach(() => {
    ({ flows, health } = harness.flows({ sweeper: false }));
    harness.reset();
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await flows.shutdown();
  });

  /** Two notifications to a route with these hooks, the body's fields passed on as they came. */
  async function notifyTwice(hooks: Pick<CallbackOptions, 'status' | 'outcome' | 'statusTable'>): Promise<string[]> {
    const app = express();
    app.post('/notify', expressCallback({ flows, ...hooks, bodyParser: express.json() }), (_req, res) => void res.send('success'));
    server = await listenOnLoopback(createServer(app));
    const { warnings, restore } = captureWarnings();
    try {
      for (let i = 0; i < 2; i++) {
        const response = await fetch(`${server.url}/notify`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ trade_status: { code: '4111111111111111' }, verdict: 42 }),
        });
        assert.equal(await response.text(), 'success');
      }
    } finally {
      restore();
    }
    return warnings;
  }

  it('a status hook that returns an object: no status recorded, counted per callback, said once without the value', async () => {
    const warnings = await notifyTwice({ status: (_request, fields) => fields?.trade_status as string });
    const spans = harness.callbacks();
    assert.equal(spans.length, 2);
    for (const span of spans) assert.equal(span.attributes['payment.provider.status'], undefined);
    assert.equal(health.get('hookErrors'), 2);
    const said = warnings.filter((w) => w.includes('callback status hook returned'));
    assert.equal(said.length, 1, warnings.join('\n'));
    assert.ok(!said[0].includes('4111'), 'the value is not logged');
  });

  it('an outcome hook that returns a number: the status decides, counted, said once', async () => {
    const warnings = await notifyTwice({
      outcome: (_request, fields) => fields?.verdict as 'succeeded',
      status: () => 'TRADE_SUCCESS',
      statusTable: { TRADE_SUCCESS: 'succeeded' },
    });
    for (const span of harness.callbacks()) assert.equal(span.attributes['payment.outcome'], 'succeeded');
    assert.equal(health.get('hookErrors'), 2);
    assert.equal(warnings.filter((w) => w.includes('callback outcome hook returned')).length, 1, warnings.join('\n'));
  });

  it('hooks that return nothing are not counted', async () => {
    const warnings = await notifyTwice({ status: () => undefined, outcome: () => undefined });
    assert.equal(health.get('hookErrors'), 0);
    assert.deepEqual(warnings.filter((w) => w.includes('hook returned')), []);
  });
});
