import assert from 'node:assert/strict';
import { trace } from '@opentelemetry/api';
import { startTracingSession } from '../support/tracing-session.js';
import type { TracingSession } from '../support/tracing-session.js';

const DB_PASSWORD = 'hunter2-db-password';
const API_KEY = 'k-live-0123456789';
const TEST_CARD = '4111111111111111';

// The resource rides on every export, and no span processor sees it: a secret put into
// OTEL_RESOURCE_ATTRIBUTES or the resourceAttributes option (a deployment tool copying
// environment or annotations over) went out as it was given.
describe('resource attributes from OTEL_RESOURCE_ATTRIBUTES and resourceAttributes (OTLP protobuf on the wire)', () => {
  let session: TracingSession;

  before(async () => {
    process.env.OTEL_RESOURCE_ATTRIBUTES = `deployment.db_password=${DB_PASSWORD},k8s.namespace.name=shop`;
    try {
      session = await startTracingSession('protobuf', {
        resourceAttributes: { 'app.api_key': API_KEY, 'app.note': `test card ${TEST_CARD}`, 'app.region': 'eu-1' },
      });
    } finally {
      delete process.env.OTEL_RESOURCE_ATTRIBUTES;
    }
  });

  after(async () => {
    await session?.stop();
  });

  it('are redacted by the same rules as span attributes', async () => {
    trace.getTracer('test').startSpan('resource check').end();
    await session.waitForSpan((s) => s.name === 'resource check');
    const receiver = session.receiver!;
    for (const secret of [DB_PASSWORD, API_KEY, TEST_CARD]) assert.deepEqual(receiver.requestsContaining(secret), [], `${secret} was exported`);
    for (const kept of ['k8s.namespace.name', 'shop', 'eu-1', 'checkout-api', '************1111']) {
      assert.ok(receiver.requestsContaining(kept).length > 0, `${kept} is exported`);
    }
  });
});
