import assert from 'node:assert/strict';
import { trace } from '@opentelemetry/api';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { payments, RedactionSpanProcessor } from '../../src/index.js';
import { KEYS } from '../callback/harness.js';
import { startTracingSession } from '../support/tracing-session.js';

// A flow token is only a token under the name the flows mint it with: with a custom
// `flows.tokenParam`, the redaction must scrub that name, not only the default one.
describe('a custom flows.tokenParam', () => {
  it('is scrubbed from exported URLs, nested ones included, on the wire', async () => {
    const session = await startTracingSession('protobuf', { instrumentHttp: false, flows: { keys: KEYS, tokenParam: 'ft', sweeper: false } });
    try {
      let token = '';
      await payments.create({ tradeNo: 'CT-1', provider: 'acme' }, (flow) => {
        const notifyUrl = flow.notifyUrl('https://shop.example/notify');
        token = new URL(notifyUrl).searchParams.get('ft') ?? '';
        const span = trace.getActiveSpan()!;
        span.setAttribute('url.full', notifyUrl);
        span.setAttribute('http.url', `https://bank.example/pay?return_url=${encodeURIComponent(flow.returnUrl('https://shop.example/return'))}`);
        span.setAttribute('payment.note', `callback at ${notifyUrl}`);
      });
      assert.ok(token.length > 20, 'a token was minted under the custom name');
      const create = await session.waitForSpan((s) => s.name === 'payment.create' && s.attributes['payment.trade_no'] === 'CT-1');
      const exported = JSON.stringify(create);
      assert.equal(exported.includes(token), false, 'the token is in no exported attribute');
      assert.equal(exported.includes(encodeURIComponent(token)), false);
      assert.match(String(create.attributes['url.full']), /[?&]ft=REDACTED/);
      assert.match(String(create.attributes['http.url']), /ft%3DREDACTED/);
    } finally {
      await session.stop();
    }
  });

  it("is followed by a redaction processor made for the application's own SDK before the setup started", async () => {
    // Made first, as an application builds its SDK before it calls startCheckoutTracing.
    const exporter = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new RedactionSpanProcessor(), new SimpleSpanProcessor(exporter)] });
    const pinned = new BasicTracerProvider({
      spanProcessors: [new RedactionSpanProcessor({ flowTokenParameter: 'pinned' }), new SimpleSpanProcessor(exporter)],
    });
    const session = await startTracingSession('memory', { instrumentHttp: false, flows: { keys: KEYS, tokenParam: 'ft', sweeper: false } });
    try {
      const span = provider.getTracer('app').startSpan('GET /return');
      span.setAttribute('url.full', 'https://shop.example/return?ft=secret-token-value&order=7');
      span.end();
      const other = pinned.getTracer('app').startSpan('GET /return');
      other.setAttribute('url.full', 'https://shop.example/return?ft=kept-as-given&pinned=secret-token-value');
      other.end();
      const [followed, given] = exporter.getFinishedSpans();
      assert.equal(followed.attributes['url.full'], 'https://shop.example/return?ft=REDACTED&order=7');
      assert.equal(given.attributes['url.full'], 'https://shop.example/return?ft=kept-as-given&pinned=REDACTED', 'an explicit flowTokenParameter is kept');
    } finally {
      await session.stop();
      await provider.shutdown();
      await pinned.shutdown();
    }
  });
});
