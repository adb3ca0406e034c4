// The receiver against hand-written OTLP payloads: value types the SDK never produces (bytes,
// key/value lists, 64-bit integers), OTLP/JSON spelling rules, garbage, CORS, and simulated
// slow or failing collectors.
import assert from 'node:assert/strict';
import { deflateSync, gzipSync } from 'node:zlib';
import { startOtlpReceiver } from '../src/index.js';
import type { OtlpReceiver } from '../src/index.js';
import { ExportTraceServiceRequest, ExportTraceServiceResponse, RpcStatus } from '../src/otlp/schema.js';

const TRACE_ID = '5b8efff798038103d269b633813fc60c';
const SPAN_ID = 'eee19b7ec3c1b174';
const PARENT_ID = 'eee19b7ec3c1b173';
const LINK_TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const LINK_SPAN_ID = 'b7ad6b7169203331';

/** The same span in OTLP/JSON, written the way the specification spells it. */
function jsonRequest(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: { stringValue: 'bank-simulator' } }] },
        schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
        scopeSpans: [
          {
            scope: { name: 'bank', version: '2.0.0', attributes: [{ key: 'scope.kind', value: { stringValue: 'manual' } }] },
            spans: [
              {
                traceId: TRACE_ID,
                spanId: SPAN_ID,
                parentSpanId: PARENT_ID,
                traceState: 'vendor=1',
                flags: 257,
                name: 'bank.authorize',
                kind: 2,
                startTimeUnixNano: '1763800000123456789',
                endTimeUnixNano: 1763800000223456789n.toString(),
                attributes: [
                  { key: 'str', value: { stringValue: 'x' } },
                  { key: 'int.string', value: { intValue: '-9007199254740993' } },
                  { key: 'int.number', value: { intValue: 42 } },
                  { key: 'double', value: { doubleValue: 1.5 } },
                  { key: 'double.nan', value: { doubleValue: 'NaN' } },
                  { key: 'bool', value: { boolValue: true } },
                  { key: 'bytes', value: { bytesValue: Buffer.from([0, 1, 254, 255]).toString('base64') } },
                  {
                    key: 'array',
                    value: { arrayValue: { values: [{ stringValue: 'a' }, { intValue: '7' }, { arrayValue: { values: [] } }] } },
                  },
                  {
                    key: 'kvlist',
                    value: {
                      kvlistValue: {
                        values: [
                          { key: 'inner', value: { boolValue: false } },
                          { key: 'nested', value: { kvlistValue: { values: [{ key: 'deep', value: { doubleValue: 2 } }] } } },
                        ],
                      },
                    },
                  },
                  { key: 'empty', value: {} },
                ],
                droppedAttributesCount: 1,
                events: [
                  { timeUnixNano: '1763800000150000000', name: 'payment.retry', attributes: [{ key: 'n', value: { intValue: '2' } }] },
                ],
                droppedEventsCount: 2,
                links: [
                  {
                    traceId: LINK_TRACE_ID.toUpperCase(),
                    spanId: LINK_SPAN_ID,
                    traceState: 'a=b',
                    flags: 1,
                    attributes: [{ key: 'why', value: { stringValue: 'retry' } }],
                  },
                ],
                droppedLinksCount: 3,
                status: { code: 2, message: 'declined' },
                ...overrides,
              },
            ],
          },
        ],
      },
    ],
  };
}

/** The same span as a protobufjs object (ids and bytes as buffers, 64-bit values as strings). */
function protobufRequest(): Uint8Array {
  const kv = (key: string, value: Record<string, unknown>) => ({ key, value });
  const message = ExportTraceServiceRequest.fromObject({
    resourceSpans: [
      {
        resource: { attributes: [kv('service.name', { stringValue: 'bank-simulator' })] },
        schemaUrl: 'https://opentelemetry.io/schemas/1.26.0',
        scopeSpans: [
          {
            scope: { name: 'bank', version: '2.0.0', attributes: [kv('scope.kind', { stringValue: 'manual' })] },
            spans: [
              {
                traceId: Buffer.from(TRACE_ID, 'hex'),
                spanId: Buffer.from(SPAN_ID, 'hex'),
                parentSpanId: Buffer.from(PARENT_ID, 'hex'),
                traceState: 'vendor=1',
                flags: 257,
                name: 'bank.authorize',
                kind: 2,
                startTimeUnixNano: '1763800000123456789',
                endTimeUnixNano: '1763800000223456789',
                attributes: [
                  kv('str', { stringValue: 'x' }),
                  kv('int.string', { intValue: '-9007199254740993' }),
                  kv('int.number', { intValue: 42 }),
                  kv('double', { doubleValue: 1.5 }),
                  kv('double.nan', { doubleValue: NaN }),
                  kv('bool', { boolValue: true }),
                  kv('bytes', { bytesValue: Buffer.from([0, 1, 254, 255]) }),
                  kv('array', { arrayValue: { values: [{ stringValue: 'a' }, { intValue: 7 }, { arrayValue: { values: [] } }] } }),
                  kv('kvlist', {
                    kvlistValue: {
                      values: [
                        kv('inner', { boolValue: false }),
                        kv('nested', { kvlistValue: { values: [kv('deep', { doubleValue: 2 })] } }),
                      ],
                    },
                  }),
                  kv('empty', {}),
                ],
                droppedAttributesCount: 1,
                events: [{ timeUnixNano: '1763800000150000000', name: 'payment.retry', attributes: [kv('n', { intValue: 2 })] }],
                droppedEventsCount: 2,
                links: [
                  {
                    traceId: Buffer.from(LINK_TRACE_ID, 'hex'),
                    spanId: Buffer.from(LINK_SPAN_ID, 'hex'),
                    traceState: 'a=b',
                    flags: 1,
                    attributes: [kv('why', { stringValue: 'retry' })],
                  },
                ],
                droppedLinksCount: 3,
                status: { code: 2, message: 'declined' },
              },
            ],
          },
        ],
      },
    ],
  });
  return ExportTraceServiceRequest.encode(message).finish();
}

const EXPECTED_SPAN = {
  traceId: TRACE_ID,
  spanId: SPAN_ID,
  parentSpanId: PARENT_ID,
  traceState: 'vendor=1',
  flags: 257,
  name: 'bank.authorize',
  kind: 2,
  kindName: 'SERVER',
  startTimeUnixNano: 1763800000123456789n,
  endTimeUnixNano: 1763800000223456789n,
  attributes: {
    str: 'x',
    'int.string': -9007199254740993n,
    'int.number': 42,
    double: 1.5,
    'double.nan': NaN,
    bool: true,
    bytes: new Uint8Array([0, 1, 254, 255]),
    array: ['a', 7, []],
    kvlist: { inner: false, nested: { deep: 2 } },
    empty: null,
  },
  droppedAttributesCount: 1,
  events: [{ name: 'payment.retry', timeUnixNano: 1763800000150000000n, attributes: { n: 2 }, droppedAttributesCount: 0 }],
  droppedEventsCount: 2,
  links: [{ traceId: LINK_TRACE_ID, spanId: LINK_SPAN_ID, traceState: 'a=b', flags: 1, attributes: { why: 'retry' }, droppedAttributesCount: 0 }],
  droppedLinksCount: 3,
  status: { code: 2, codeName: 'ERROR', message: 'declined' },
  resource: { attributes: { 'service.name': 'bank-simulator' }, droppedAttributesCount: 0, schemaUrl: 'https://opentelemetry.io/schemas/1.26.0' },
  scope: { name: 'bank', version: '2.0.0', attributes: { 'scope.kind': 'manual' }, schemaUrl: '' },
};

function post(url: string, body: Uint8Array | string, headers: Record<string, string>): Promise<Response> {
  return fetch(url, { method: 'POST', body, headers });
}

describe('OTLP receiver on the wire', function () {
  let receiver: OtlpReceiver;

  beforeEach(async function () {
    receiver = await startOtlpReceiver();
  });

  afterEach(async function () {
    await receiver.close();
  });

  describe('decoding', function () {
    it('decodes every OTLP/JSON value type into plain JS values', async function () {
      const body = JSON.stringify(jsonRequest());
      const response = await post(receiver.tracesUrl, body, { 'content-type': 'application/json' });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), 'application/json');
      assert.deepStrictEqual(await response.json(), {});
      const span = await receiver.waitForSpan((candidate) => candidate.name === 'bank.authorize');
      const { raw, encoding, requestIndex, ...rest } = span;
      assert.deepStrictEqual(rest, EXPECTED_SPAN);
      assert.equal(encoding, 'json');
      assert.equal(requestIndex, 0);
      assert.equal(Buffer.from(raw).toString('utf8'), body);
    });

    it('decodes the same span from protobuf into the same shape', async function () {
      const body = protobufRequest();
      const response = await post(receiver.tracesUrl, body, { 'content-type': 'application/x-protobuf' });
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), 'application/x-protobuf');
      const answer = ExportTraceServiceResponse.toObject(ExportTraceServiceResponse.decode(new Uint8Array(await response.arrayBuffer())));
      assert.deepStrictEqual(answer, {}, 'full success is an empty ExportTraceServiceResponse');
      const span = await receiver.waitForSpan((candidate) => candidate.name === 'bank.authorize');
      const { raw, encoding, requestIndex: _index, ...rest } = span;
      assert.deepStrictEqual(rest, EXPECTED_SPAN);
      assert.equal(encoding, 'protobuf');
      assert.deepStrictEqual(raw, new Uint8Array(body));
    });

    it('accepts proto field names, enum names and numeric 64-bit values in JSON', async function () {
      const request = jsonRequest({ kind: 'SPAN_KIND_CLIENT', status: { code: 'STATUS_CODE_OK' }, startTimeUnixNano: 1000, endTimeUnixNano: '2000' });
      const text = JSON.stringify(request).replace('"resourceSpans"', '"resource_spans"').replace('"scopeSpans"', '"scope_spans"');
      const response = await post(receiver.tracesUrl, text, { 'content-type': 'application/json; charset=utf-8' });
      assert.equal(response.status, 200);
      const span = await receiver.waitForSpan(() => true);
      assert.equal(span.kindName, 'CLIENT');
      assert.equal(span.kind, 3);
      assert.deepStrictEqual(span.status, { code: 1, codeName: 'OK', message: '' });
      assert.equal(span.startTimeUnixNano, 1000n);
      assert.equal(span.endTimeUnixNano, 2000n);
    });

    it('reads a root span (no parent id) as parentSpanId ""', async function () {
      const request = jsonRequest({ parentSpanId: '' });
      await post(receiver.tracesUrl, JSON.stringify(request), { 'content-type': 'application/json' });
      const protobufRoot = ExportTraceServiceRequest.encode(
        ExportTraceServiceRequest.fromObject({
          resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: Buffer.alloc(16, 1), spanId: Buffer.alloc(8, 2), name: 'pb.root' }] }] }],
        }),
      ).finish();
      await post(receiver.tracesUrl, protobufRoot, { 'content-type': 'application/x-protobuf' });
      const spans = await receiver.waitForSpans(() => true, { count: 2 });
      assert.deepStrictEqual(
        spans.map((span) => [span.name, span.parentSpanId, span.kindName, span.status.codeName, span.scope.name]),
        [
          ['bank.authorize', '', 'SERVER', 'ERROR', 'bank'],
          ['pb.root', '', 'UNSPECIFIED', 'UNSET', ''],
        ],
      );
    });

    it('accepts gzip and deflate bodies and keeps both the raw and the decoded bytes', async function () {
      const body = JSON.stringify(jsonRequest());
      const gzipped = gzipSync(body);
      const response = await post(receiver.tracesUrl, gzipped, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      assert.equal(response.status, 200);
      const request = receiver.requests[0];
      assert.deepStrictEqual(Buffer.from(request.rawBody), gzipped);
      assert.equal(Buffer.from(request.body).toString('utf8'), body);
      assert.equal(receiver.spans[0].name, 'bank.authorize');

      const deflated = await post(receiver.tracesUrl, deflateSync(protobufRequest()), {
        'content-type': 'application/x-protobuf',
        'content-encoding': 'deflate',
      });
      assert.equal(deflated.status, 200);
      assert.deepStrictEqual(
        receiver.spans.map((span) => span.encoding),
        ['json', 'protobuf'],
      );
    });

    it('accepts OTLP/JSON sent as text/plain, as navigator.sendBeacon does', async function () {
      const response = await post(receiver.tracesUrl, JSON.stringify(jsonRequest()), { 'content-type': 'text/plain;charset=UTF-8' });
      assert.equal(response.status, 200);
      assert.equal(receiver.spans[0].encoding, 'json');
    });

    it('lets a privacy test search every exported byte', async function () {
      const leaky = jsonRequest({ attributes: [{ key: 'card', value: { stringValue: '4111111111111111' } }] });
      await post(receiver.tracesUrl, gzipSync(JSON.stringify(leaky)), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      await post(receiver.tracesUrl, protobufRequest(), { 'content-type': 'application/x-protobuf' });
      assert.deepStrictEqual(
        receiver.requestsContaining('4111111111111111').map((request) => request.index),
        [0],
      );
      assert.deepStrictEqual(
        receiver.requestsContaining(new Uint8Array(Buffer.from(SPAN_ID, 'hex'))).map((request) => request.index),
        [1],
        'binary search finds the protobuf span id bytes',
      );
      assert.ok(!Buffer.from(receiver.requests[0].rawBody).includes('4111111111111111'), 'only the decoded body shows it');
    });
  });

  describe('rejecting garbage', function () {
    const cases: { title: string; body: Uint8Array | string; headers: Record<string, string>; status: number; error: RegExp }[] = [
      { title: 'invalid JSON', body: '{"resourceSpans": [', headers: { 'content-type': 'application/json' }, status: 400, error: /not OTLP\/JSON/ },
      { title: 'a JSON array', body: '[]', headers: { 'content-type': 'application/json' }, status: 400, error: /must be a JSON object/ },
      {
        title: 'resourceSpans that is not a list',
        body: '{"resourceSpans": 3}',
        headers: { 'content-type': 'application/json' },
        status: 400,
        error: /resourceSpans: expected an array/,
      },
      {
        title: 'a base64 trace id in JSON',
        body: JSON.stringify(jsonRequest({ traceId: Buffer.from(TRACE_ID, 'hex').toString('base64') })),
        headers: { 'content-type': 'application/json' },
        status: 400,
        error: /spans\[0\]\.traceId: expected a hex string/,
      },
      {
        title: 'a short span id in JSON',
        body: JSON.stringify(jsonRequest({ spanId: 'abcd' })),
        headers: { 'content-type': 'application/json' },
        status: 400,
        error: /spanId: expected 16 hex characters, got 4/,
      },
      {
        title: 'a fractional timestamp',
        body: JSON.stringify(jsonRequest({ startTimeUnixNano: 1.5 })),
        headers: { 'content-type': 'application/json' },
        status: 400,
        error: /startTimeUnixNano: expected a 64-bit integer/,
      },
      {
        title: 'text that is not protobuf',
        body: 'this is not a protobuf message',
        headers: { 'content-type': 'application/x-protobuf' },
        status: 400,
        error: /not a protobuf ExportTraceServiceRequest/,
      },
      {
        title: 'a protobuf span with a 3-byte trace id',
        body: ExportTraceServiceRequest.encode(
          ExportTraceServiceRequest.fromObject({
            resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: Buffer.from([1, 2, 3]), spanId: Buffer.alloc(8, 1) }] }] }],
          }),
        ).finish(),
        headers: { 'content-type': 'application/x-protobuf' },
        status: 400,
        error: /traceId: expected 16 bytes, got 3/,
      },
      {
        title: 'a body that claims gzip but is not',
        body: '{}',
        headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        status: 400,
        error: /not valid gzip/,
      },
      { title: 'an unsupported content type', body: '<xml/>', headers: { 'content-type': 'application/xml' }, status: 415, error: /unsupported content type/ },
    ];

    for (const { title, body, headers, status, error } of cases) {
      it(`answers ${status} to ${title} and counts it`, async function () {
        const response = await post(receiver.tracesUrl, body, headers);
        assert.equal(response.status, status);
        assert.equal(receiver.rejectedCount, 1);
        assert.equal(receiver.spans.length, 0);
        const request = receiver.requests[0];
        assert.equal(request.status, status);
        assert.match(request.error ?? '', error);
      });
    }

    it('answers a protobuf request with a google.rpc.Status body', async function () {
      const response = await post(receiver.tracesUrl, 'garbage', { 'content-type': 'application/x-protobuf' });
      assert.equal(response.status, 400);
      const status = RpcStatus.toObject(RpcStatus.decode(new Uint8Array(await response.arrayBuffer())));
      assert.equal(status.code, 3);
      assert.match(String(status.message), /not a protobuf/);
    });

    it('answers 404 on other paths, 405 to other methods, 413 to oversized bodies', async function () {
      const small = await startOtlpReceiver({ maxBodyBytes: 64 });
      try {
        assert.equal((await post(`${small.url}/v1/metrics`, '{}', { 'content-type': 'application/json' })).status, 404);
        assert.equal((await fetch(small.tracesUrl)).status, 405);
        assert.equal((await post(small.tracesUrl, 'x'.repeat(65), { 'content-type': 'application/json' })).status, 413);
        const bomb = gzipSync(Buffer.alloc(1000, ' '));
        assert.ok(bomb.byteLength < 64);
        assert.equal((await post(small.tracesUrl, bomb, { 'content-type': 'application/json', 'content-encoding': 'gzip' })).status, 413);
        assert.equal(small.rejectedCount, 4);
      } finally {
        await small.close();
      }
    });

    it('keeps working after garbage', async function () {
      await post(receiver.tracesUrl, 'nope', { 'content-type': 'application/json' });
      await post(receiver.tracesUrl, JSON.stringify(jsonRequest()), { 'content-type': 'application/json' });
      assert.equal((await receiver.waitForSpan((span) => span.name === 'bank.authorize')).requestIndex, 1);
      assert.equal(receiver.rejectedCount, 1);
    });
  });

  describe('simulated collectors', function () {
    it('answers late when told to be slow, while the spans are already visible', async function () {
      receiver.setResponse({ delayMs: 300 });
      let answered = false;
      const responding = post(receiver.tracesUrl, JSON.stringify(jsonRequest()), { 'content-type': 'application/json' }).then(
        (response) => {
          answered = true;
          return response;
        },
      );
      await receiver.waitForSpan((span) => span.name === 'bank.authorize');
      assert.equal(answered, false, 'the answer is still being held back');
      assert.equal((await responding).status, 200);
    });

    it('fails the next N requests with the given status, then recovers', async function () {
      receiver.setResponse({ status: 429, retryAfterSeconds: 7, times: 2 });
      const statuses: number[] = [];
      for (let i = 0; i < 3; i += 1) {
        const response = await post(receiver.tracesUrl, protobufRequest(), { 'content-type': 'application/x-protobuf' });
        statuses.push(response.status);
        if (i === 0) {
          assert.equal(response.headers.get('retry-after'), '7');
          const status = RpcStatus.toObject(RpcStatus.decode(new Uint8Array(await response.arrayBuffer())));
          assert.equal(status.code, 14);
        }
      }
      assert.deepStrictEqual(statuses, [429, 429, 200]);
      assert.equal(receiver.spans.length, 1, 'refused exports are not received spans');
      assert.equal(receiver.rejectedCount, 0, 'a simulated failure is not a rejection of garbage');
    });

    it('reports a partial success in the encoding of the request', async function () {
      receiver.setResponse({ partialSuccess: { rejectedSpans: 1, errorMessage: 'too old' } });
      const json = await post(receiver.tracesUrl, JSON.stringify(jsonRequest()), { 'content-type': 'application/json' });
      assert.deepStrictEqual(await json.json(), { partialSuccess: { rejectedSpans: 1, errorMessage: 'too old' } });
      const protobuf = await post(receiver.tracesUrl, protobufRequest(), { 'content-type': 'application/x-protobuf' });
      const answer = ExportTraceServiceResponse.toObject(ExportTraceServiceResponse.decode(new Uint8Array(await protobuf.arrayBuffer())), {
        longs: Number,
      });
      assert.deepStrictEqual(answer, { partialSuccess: { rejectedSpans: 1, errorMessage: 'too old' } });
      receiver.setResponse(undefined);
      const plain = await post(receiver.tracesUrl, JSON.stringify(jsonRequest()), { 'content-type': 'application/json' });
      assert.deepStrictEqual(await plain.json(), {});
    });

    it('close() cuts off held answers and rejects pending waits', async function () {
      const other = await startOtlpReceiver({ response: { delayMs: 60_000 } });
      const held = post(other.tracesUrl, JSON.stringify(jsonRequest()), { 'content-type': 'application/json' }).then(
        () => 'answered',
        () => 'cut off',
      );
      await other.waitForSpan(() => true);
      const waiting = other.waitForSpan((span) => span.name === 'never', { timeoutMs: 60_000 }).then(
        () => 'resolved',
        (error: Error) => error.name,
      );
      await other.close();
      assert.equal(await held, 'cut off');
      assert.equal(await waiting, 'ReceiverClosedError');
    });

    it('clear() forgets spans and requests', async function () {
      await post(receiver.tracesUrl, JSON.stringify(jsonRequest()), { 'content-type': 'application/json' });
      await post(receiver.tracesUrl, 'junk', { 'content-type': 'application/json' });
      receiver.clear();
      assert.equal(receiver.spans.length, 0);
      assert.equal(receiver.requests.length, 0);
      assert.equal(receiver.rejectedCount, 0);
    });

    it('clear() with ignoreSpansStartedBefore keeps later exports of earlier spans out of spans, not out of requests', async function () {
      // The span started at 1763800000123.456789 ms.
      receiver.clear({ ignoreSpansStartedBefore: 1763800000124 });
      await post(receiver.tracesUrl, JSON.stringify(jsonRequest()), { 'content-type': 'application/json' });
      assert.equal(receiver.spans.length, 0);
      assert.equal(receiver.requests.length, 1);
      receiver.clear({ ignoreSpansStartedBefore: 1763800000123 });
      await post(receiver.tracesUrl, JSON.stringify(jsonRequest()), { 'content-type': 'application/json' });
      assert.equal(receiver.spans.length, 1);
      receiver.clear();
      await post(receiver.tracesUrl, JSON.stringify(jsonRequest()), { 'content-type': 'application/json' });
      assert.equal(receiver.spans.length, 1, 'a plain clear keeps every span again');
    });
  });

  describe('CORS', function () {
    it('answers preflights and labels answers when enabled', async function () {
      const browserFacing = await startOtlpReceiver({ cors: true });
      try {
        const preflight = await fetch(browserFacing.tracesUrl, {
          method: 'OPTIONS',
          headers: {
            origin: 'http://127.0.0.1:9999',
            'access-control-request-method': 'POST',
            'access-control-request-headers': 'content-type',
          },
        });
        assert.equal(preflight.status, 204);
        assert.equal(preflight.headers.get('access-control-allow-origin'), 'http://127.0.0.1:9999');
        assert.equal(preflight.headers.get('access-control-allow-credentials'), 'true');
        assert.equal(preflight.headers.get('access-control-allow-methods'), 'POST, OPTIONS');
        assert.equal(preflight.headers.get('access-control-allow-headers'), 'content-type');
        assert.equal(browserFacing.requests.length, 0, 'preflights are not export requests');

        const exported = await post(browserFacing.tracesUrl, JSON.stringify(jsonRequest()), {
          'content-type': 'text/plain',
          origin: 'http://127.0.0.1:9999',
        });
        assert.equal(exported.headers.get('access-control-allow-origin'), 'http://127.0.0.1:9999');
        const noOrigin = await post(browserFacing.tracesUrl, JSON.stringify(jsonRequest()), { 'content-type': 'application/json' });
        assert.equal(noOrigin.headers.get('access-control-allow-origin'), '*');
        assert.equal(browserFacing.spans.length, 2);
      } finally {
        await browserFacing.close();
      }
    });

    it('sends no CORS headers by default', async function () {
      const response = await post(receiver.tracesUrl, JSON.stringify(jsonRequest()), {
        'content-type': 'application/json',
        origin: 'http://127.0.0.1:9999',
      });
      assert.equal(response.headers.get('access-control-allow-origin'), null);
      const preflight = await fetch(receiver.tracesUrl, { method: 'OPTIONS' });
      assert.equal(preflight.status, 405);
    });
  });
});
