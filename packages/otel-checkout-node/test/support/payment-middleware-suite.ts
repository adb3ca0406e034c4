import * as assert from 'node:assert/strict';
import { propagation, ROOT_CONTEXT, SpanKind, trace } from '@opentelemetry/api';
import { ATTR_ERROR_TYPE, ATTR_EXCEPTION_MESSAGE, ATTR_EXCEPTION_TYPE, ATTR_HTTP_RESPONSE_STATUS_CODE } from '@opentelemetry/semantic-conventions';
import {
  ATTR_PAYMENT_AMOUNT,
  ATTR_PAYMENT_CURRENCY,
  ATTR_PAYMENT_FAILURE_REASON,
  ATTR_PAYMENT_MERCHANT_ID,
  ATTR_PAYMENT_METHOD,
  ATTR_PAYMENT_OUTCOME,
  ATTR_PAYMENT_PROVIDER,
  ATTR_PAYMENT_STAGE,
  ATTR_PAYMENT_TRADE_NO,
  SPAN_NAME_PAYMENT_CREATE,
  SPAN_NAME_PAYMENT_PROVIDER,
} from '@otel-checkout/semantic-conventions';
import {
  ATTR_CHECKOUT_CANARY_COHORT,
  ATTR_CHECKOUT_RELEASE,
  ATTR_PAYMENT_PROVIDER_STATUS,
  ATTR_PAYMENT_PROVIDER_TRANSACTION_ID,
  EVENT_PAYMENT_STATUS_UNMAPPED,
} from '@otel-checkout/semantic-conventions/incubating';
import type { PaymentMiddlewareOptions } from '../../src/index.js';
import { ChargeFailedError, LUHN_TRADE_NO, STREAM_FIRST_CHUNK, TEST_CARD, TEST_CARD_SPACED, scenarioMiddlewareOptions, scenarioRoutes, startFakeProvider } from './payment-scenario.js';
import type { FakeProvider, ScenarioRoutes } from './payment-scenario.js';
import { hangUpAfter } from './raw-http.js';
import type { SpanRecord } from './span-record.js';
import { startTracingSession } from './tracing-session.js';
import type { Sink, TracingSession } from './tracing-session.js';

/** A framework app serving the scenario routes (see `scenarioRoutes`) on 127.0.0.1. */
export interface FrameworkApp {
  readonly url: string;
  close(): Promise<void>;
}

/** Builds the app; called after tracing started, so it must load the framework lazily. */
export type AppFactory = (routes: ScenarioRoutes, options: PaymentMiddlewareOptions) => Promise<FrameworkApp>;

export interface SuiteRun {
  mode: 'default' | 'lean';
  sink: Sink;
  /** Default mode with `frameworkSpans: true` (when the suite names a framework span); otherwise the shipped default, off. */
  frameworkSpans?: boolean;
}

/**
 * Every framework runs these: both modes in memory, and both wire encodings; default mode once
 * with the framework's own instrumentation and once as shipped (`frameworkSpans` off).
 */
export const STANDARD_RUNS: SuiteRun[] = [
  { mode: 'default', sink: 'memory', frameworkSpans: true },
  { mode: 'lean', sink: 'memory' },
  { mode: 'default', sink: 'protobuf' },
  { mode: 'lean', sink: 'json' },
];

const PAY_PATH = '/pay/create';

/**
 * The payment middleware behaviour every framework adapter must show, against a real app
 * on a real port, with spans read back from memory or from the OTLP receiver.
 */
export interface SuiteOptions {
  /** Which runs to do. Default: `STANDARD_RUNS`. */
  runs?: SuiteRun[];
  /** False for frameworks without a parsed body (node:http): the extractor cannot read body fields. Default: true. */
  bodyDetails?: boolean;
  /** The app's routes are templates the framework names (Express, Fastify): `http.route` must reach the server span. Default: false. */
  routeTemplates?: boolean;
  /** In default mode, a span only the framework's OTel instrumentation makes (proves the fixture's copy is instrumented). */
  frameworkSpan?: (span: SpanRecord) => boolean;
  /**
   * The framework parses the body after the payment middleware saw the request, and answers a
   * malformed one with its own 400 through an error the middleware sees (Fastify). Default: false.
   */
  parsesBodyAfterMiddleware?: boolean;
}

export function describePaymentMiddleware(framework: string, makeApp: AppFactory, suiteOptions: SuiteOptions = {}): void {
  const runs = suiteOptions.runs ?? STANDARD_RUNS;
  const bodyDetails = suiteOptions.bodyDetails !== false;
  for (const run of runs) {
    const frameworkSpans = run.mode === 'default' && run.frameworkSpans === true && suiteOptions.frameworkSpan !== undefined;
    describe(`${framework} payment middleware (${run.mode} mode${frameworkSpans ? ' with framework spans' : ''}, ${run.sink})`, function () {
      let provider: FakeProvider;
      let session: TracingSession;
      let app: FrameworkApp;

      before(async () => {
        provider = await startFakeProvider();
        session = await startTracingSession(run.sink, { instrumentHttp: run.mode === 'default', frameworkSpans });
        app = await makeApp(scenarioRoutes(() => provider.url), scenarioMiddlewareOptions);
      });

      after(async () => {
        await app?.close();
        await session?.stop();
        await provider?.close();
      });

      beforeEach(() => {
        session.clear();
        provider.requests.length = 0;
      });

      const post = (path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
        fetch(`${app.url}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: typeof body === 'string' ? body : JSON.stringify(body),
        });

      const serverSpanOf = async (traceId: string, path = PAY_PATH): Promise<SpanRecord> => {
        const servers = await session.waitForSpans((s) => s.traceId === traceId && s.kind === 'SERVER' && s.attributes['url.path'] === path);
        return servers[0];
      };

      /** A POST from inside a client span, as the checkout page's SDK sends it: the answer and the client's trace id. */
      const postFromClient = async (path: string, body: unknown, extraHeaders: Record<string, string> = {}): Promise<{ response: Response; traceId: string }> => {
        const client = trace.getTracer('test-client').startSpan('checkout client');
        const headers: Record<string, string> = {};
        propagation.inject(trace.setSpan(ROOT_CONTEXT, client), headers);
        const response = await post(path, body, { ...headers, ...extraHeaders });
        client.end();
        return { response, traceId: client.spanContext().traceId };
      };

      it('joins the client trace with exactly one server span that carries the payment attributes', async () => {
        const client = trace.getTracer('test-client').startSpan('checkout client', { kind: SpanKind.CLIENT });
        const headers: Record<string, string> = {};
        propagation.inject(trace.setSpan(ROOT_CONTEXT, client), headers);
        const response = await post(PAY_PATH, { tradeNo: 'T-100', amount: 1250, currency: 'EUR' }, headers);
        client.end();
        assert.equal(response.status, 200);
        const { traceId } = (await response.json()) as { traceId: string };
        assert.equal(traceId, client.spanContext().traceId);

        const server = await serverSpanOf(traceId);
        assert.equal(server.parentSpanId, client.spanContext().spanId);
        assert.equal(server.attributes[ATTR_PAYMENT_TRADE_NO], 'T-100');
        if (bodyDetails) {
          assert.equal(server.attributes[ATTR_PAYMENT_AMOUNT], 1250);
          assert.equal(server.attributes[ATTR_PAYMENT_CURRENCY], 'EUR');
        }
        assert.equal(server.attributes[ATTR_PAYMENT_METHOD], 'card');
        assert.equal(server.attributes[ATTR_PAYMENT_PROVIDER], 'acme');
        assert.equal(server.attributes[ATTR_PAYMENT_MERCHANT_ID], 'm-1');
        assert.equal(server.attributes[ATTR_PAYMENT_OUTCOME], 'succeeded');
        assert.equal(server.resource['service.name'], 'checkout-api');
        if (suiteOptions.routeTemplates) {
          assert.equal(server.attributes['http.route'], PAY_PATH);
          assert.equal(server.name, `POST ${PAY_PATH}`);
        }
        const all = await session.trace(traceId);
        const serversForRoute = all.filter((s) => s.kind === 'SERVER' && s.attributes['url.path'] === PAY_PATH);
        assert.equal(serversForRoute.length, 1, 'no duplicate server span');
        if (frameworkSpans && suiteOptions.frameworkSpan) {
          assert.ok(all.some(suiteOptions.frameworkSpan), `no span from the framework instrumentation among: ${all.map((s) => s.name).join(', ')}`);
        } else if (suiteOptions.frameworkSpan) {
          // As shipped: no span per layer, hook or handler.
          assert.deepEqual(all.filter(suiteOptions.frameworkSpan).map((s) => s.name), []);
        }
      });

      it('records payment.create under the server span and the provider call as its CLIENT child, propagated to the provider', async () => {
        const response = await post(PAY_PATH, { tradeNo: 'T-200' });
        const { traceId } = (await response.json()) as { traceId: string };
        const server = await serverSpanOf(traceId);
        const [create] = await session.waitForSpans((s) => s.traceId === traceId && s.name === SPAN_NAME_PAYMENT_CREATE);
        const [call] = await session.waitForSpans((s) => s.traceId === traceId && s.name === `${SPAN_NAME_PAYMENT_PROVIDER} charge`);
        const all = await session.trace(traceId);
        assert.ok(isDescendant(create, server, all), 'payment.create is inside the server span');
        assert.equal(create.kind, 'INTERNAL');
        assert.equal(create.attributes[ATTR_PAYMENT_STAGE], 'create');
        assert.equal(create.attributes[ATTR_PAYMENT_TRADE_NO], 'T-200');
        assert.equal(create.attributes[ATTR_PAYMENT_OUTCOME], 'succeeded');
        assert.equal(call.kind, 'CLIENT');
        assert.equal(call.parentSpanId, create.spanId);
        assert.equal(call.attributes[ATTR_PAYMENT_STAGE], 'provider');
        assert.equal(call.attributes[ATTR_PAYMENT_PROVIDER_STATUS], 'PAID');
        assert.equal(call.attributes[ATTR_PAYMENT_PROVIDER_TRANSACTION_ID], 'tx-1');
        assert.equal(call.attributes['http.response.status_code'], 200);
        const traceparent = String(provider.requests[0]?.headers.traceparent);
        assert.equal(traceparent, `00-${traceId}-${call.spanId}-01`);
      });

      it('records an unmapped provider status as outcome unknown with the payment.status.unmapped event', async () => {
        const response = await post(PAY_PATH, { tradeNo: 'T-300', providerStatus: 'UNDER_REVIEW' });
        const { traceId } = (await response.json()) as { traceId: string };
        const [call] = await session.waitForSpans((s) => s.traceId === traceId && s.kind === 'CLIENT' && s.name.startsWith(SPAN_NAME_PAYMENT_PROVIDER));
        assert.equal(call.attributes[ATTR_PAYMENT_OUTCOME], 'unknown');
        assert.equal(call.attributes[ATTR_PAYMENT_FAILURE_REASON], 'unmapped_status');
        const event = call.events.find((e) => e.name === EVENT_PAYMENT_STATUS_UNMAPPED);
        assert.equal(event?.attributes[ATTR_PAYMENT_PROVIDER_STATUS], 'UNDER_REVIEW');
        const server = await serverSpanOf(traceId);
        assert.equal(server.attributes[ATTR_PAYMENT_OUTCOME], 'unknown');
      });

      it('records a thrown error as failed/internal, with its class and exception event; the request still gets its 500', async () => {
        const { response, traceId } = await postFromClient('/pay/fail', { tradeNo: 'T-400' });
        assert.equal(response.status, 500);
        const server = await serverSpanOf(traceId, '/pay/fail');
        assert.equal(server.attributes[ATTR_PAYMENT_OUTCOME], 'failed');
        assert.equal(server.attributes[ATTR_PAYMENT_FAILURE_REASON], 'internal');
        if (bodyDetails) assert.equal(server.attributes[ATTR_PAYMENT_TRADE_NO], 'T-400');
        assert.equal(server.status, 'ERROR');
        // Both modes alike, whoever made the span: the error's class (not the status code) and
        // one exception event, its message redacted.
        assert.equal(server.attributes[ATTR_ERROR_TYPE], ChargeFailedError.name);
        const exceptions = server.events.filter((e) => e.name === 'exception');
        assert.equal(exceptions.length, 1, 'one exception event on the server span');
        assert.equal(exceptions[0].attributes[ATTR_EXCEPTION_TYPE], ChargeFailedError.name);
        const message = String(exceptions[0].attributes[ATTR_EXCEPTION_MESSAGE]);
        assert.ok(message.startsWith('charge failed') && !message.includes(TEST_CARD_SPACED), message);
      });

      it('records an error the application answers with a 4xx (its validation error) as failed/invalid_request, not internal, and not as a server error', async () => {
        const { response, traceId } = await postFromClient('/pay/refuse', { tradeNo: 'T-422' });
        assert.equal(response.status, 422);
        const server = await serverSpanOf(traceId, '/pay/refuse');
        assert.equal(server.attributes[ATTR_PAYMENT_OUTCOME], 'failed');
        assert.equal(server.attributes[ATTR_PAYMENT_FAILURE_REASON], 'invalid_request');
        // The client's mistake: as for any 4xx answer of a server span, no error status or error.type.
        assert.equal(server.status, 'UNSET');
        assert.equal(server.attributes[ATTR_ERROR_TYPE], undefined);
        assert.equal(server.attributes[ATTR_HTTP_RESPONSE_STATUS_CODE], 422);
      });

      if (suiteOptions.parsesBodyAfterMiddleware === true) {
        it("leaves a 400 the framework answers itself (malformed JSON) out of the server errors: failed/invalid_request, no error status", async () => {
          const { response, traceId } = await postFromClient('/pay/create', '{"tradeNo": "T-401",');
          assert.equal(response.status, 400);
          const server = await serverSpanOf(traceId, '/pay/create');
          assert.equal(server.attributes[ATTR_PAYMENT_OUTCOME], 'failed');
          assert.equal(server.attributes[ATTR_PAYMENT_FAILURE_REASON], 'invalid_request');
          assert.equal(server.status, 'UNSET');
          assert.equal(server.attributes[ATTR_ERROR_TYPE], undefined);
        });
      }

      it('records a 4xx answer as failed/invalid_request', async () => {
        const { response, traceId } = await postFromClient('/pay/invalid', { tradeNo: 'T-500' });
        assert.equal(response.status, 400);
        const server = await serverSpanOf(traceId, '/pay/invalid');
        assert.equal(server.attributes[ATTR_PAYMENT_OUTCOME], 'failed');
        assert.equal(server.attributes[ATTR_PAYMENT_FAILURE_REASON], 'invalid_request');
      });

      it('records a streamed answer the client stopped reading midway as cut short: an error, no status code', async () => {
        const body = JSON.stringify({ tradeNo: 'T-550' });
        const port = new URL(app.url).port;
        const request = `POST /pay/stream HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n${body}`;
        const received = await hangUpAfter(Number(port), request, STREAM_FIRST_CHUNK);
        assert.match(received, /^HTTP\/1\.1 200 /, 'the answer had begun');
        const server = await session.waitForSpan((s) => s.kind === 'SERVER' && s.attributes['url.path'] === '/pay/stream');
        // The client got a 200 status line and part of a body, not an answer: as default mode's span says it.
        assert.equal(server.status, 'ERROR');
        assert.equal(server.attributes[ATTR_ERROR_TYPE], '_OTHER');
        assert.equal(server.attributes['http.response.status_code'], undefined);
        if (bodyDetails) assert.equal(server.attributes[ATTR_PAYMENT_TRADE_NO], 'T-550');
      });

      it('lets the request proceed when the extractor throws, and counts it', async () => {
        const before = session.handle.health().extractorErrors;
        const response = await post(PAY_PATH, { tradeNo: 'T-600', explode: true }, { 'x-explode': '1' });
        assert.equal(response.status, 200);
        const { traceId } = (await response.json()) as { traceId: string };
        const server = await serverSpanOf(traceId);
        assert.equal(server.attributes[ATTR_PAYMENT_TRADE_NO], 'T-600', 'payments.create still annotates the server span');
        assert.equal(session.handle.health().extractorErrors, before + 1);
      });

      it('ignores a malformed traceparent: new trace, request untouched, counted', async () => {
        const before = session.handle.health().malformedTraceparent;
        const response = await post(PAY_PATH, { tradeNo: 'T-700' }, { traceparent: '00-not-a-trace-id-01', tracestate: 'a=b' });
        assert.equal(response.status, 200);
        const { traceId } = (await response.json()) as { traceId: string };
        const server = await serverSpanOf(traceId);
        assert.equal(server.parentSpanId, '');
        assert.equal(session.handle.health().malformedTraceparent, before + 1);
      });

      it('ignores a malformed tracestate member and an oversize baggage header: the trace is kept, the request untouched, each counted', async () => {
        const before = session.handle.health();
        const sent = await postFromClient(PAY_PATH, { tradeNo: 'T-750' }, { tracestate: 'Bad=1,vendor=ok', baggage: `${ATTR_CHECKOUT_CANARY_COHORT}=canary,pad=${'p'.repeat(9000)}` });
        const response = sent.response;
        assert.equal(response.status, 200);
        const { traceId } = (await response.json()) as { traceId: string };
        assert.equal(traceId, sent.traceId, 'a bad tracestate member does not break the trace');
        const [create] = await session.waitForSpans((s) => s.traceId === traceId && s.name === SPAN_NAME_PAYMENT_CREATE);
        assert.equal(create.attributes[ATTR_CHECKOUT_CANARY_COHORT], undefined, 'nothing from the oversize baggage header');
        const after = session.handle.health();
        assert.equal(after.malformedTracestate, before.malformedTracestate + 1);
        assert.equal(after.oversizeHeaders, before.oversizeHeaders + 1);
      });

      it('keeps only allow-listed baggage and carries the cohort onto payment spans', async () => {
        const before = session.handle.health().baggageDropped;
        const baggage = `${ATTR_CHECKOUT_CANARY_COHORT}=canary,${ATTR_CHECKOUT_RELEASE}=web-7,session.secret=s3cr3t,user.id=42`;
        const response = await post(PAY_PATH, { tradeNo: 'T-800' }, { baggage });
        const { traceId } = (await response.json()) as { traceId: string };
        const [create] = await session.waitForSpans((s) => s.traceId === traceId && s.name === SPAN_NAME_PAYMENT_CREATE);
        assert.equal(create.attributes[ATTR_CHECKOUT_CANARY_COHORT], 'canary');
        assert.equal(create.attributes[ATTR_CHECKOUT_RELEASE], 'web-7');
        assert.equal(session.handle.health().baggageDropped, before + 2);
        const forwarded = String(provider.requests[0]?.headers.baggage ?? '');
        assert.ok(forwarded.includes(`${ATTR_CHECKOUT_CANARY_COHORT}=canary`), forwarded);
        assert.ok(!forwarded.includes('s3cr3t') && !forwarded.includes('user.id'), forwarded);
      });

      if (run.sink !== 'memory') {
        it('exports no byte of a card number sent in a body, a header, a URL and an exception; a Luhn-valid trade number stays searchable', async () => {
          const { response: failed, traceId: failedTraceId } = await postFromClient(`/pay/fail?card=${TEST_CARD}&pan=${encodeURIComponent(TEST_CARD_SPACED)}`, { tradeNo: 'T-900', card: TEST_CARD }, { 'x-card-number': TEST_CARD });
          assert.equal(failed.status, 500);
          const ok = await post(PAY_PATH, { tradeNo: LUHN_TRADE_NO, card: TEST_CARD_SPACED });
          const { traceId } = (await ok.json()) as { traceId: string };
          const server = await serverSpanOf(traceId);
          assert.equal(server.attributes[ATTR_PAYMENT_TRADE_NO], LUHN_TRADE_NO);
          // The server span records the thrown error, whose message holds the card: masked and counted.
          assert.ok(session.handle.health().redactions > 0, 'redactions are counted');
          await serverSpanOf(failedTraceId, '/pay/fail');
          const receiver = session.receiver!;
          assert.ok(receiver.requests.length > 0);
          for (const request of receiver.requests) {
            const text = Buffer.from(request.body).toString('latin1');
            for (const secret of [TEST_CARD, TEST_CARD_SPACED, '4111-1111-1111-1111', encodeURIComponent(TEST_CARD_SPACED)]) {
              assert.ok(!text.includes(secret), `"${secret}" found in an export request`);
            }
          }
        });
      }
    });
  }
}

function isDescendant(span: SpanRecord, ancestor: SpanRecord, all: SpanRecord[]): boolean {
  const byId = new Map(all.map((s) => [s.spanId, s]));
  let current: SpanRecord | undefined = span;
  for (let depth = 0; current && depth < 32; depth += 1) {
    if (current.parentSpanId === ancestor.spanId) return true;
    current = byId.get(current.parentSpanId);
  }
  return false;
}
