import assert from 'node:assert/strict';
import http from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { finished } from 'node:stream';
import { diag, DiagLogLevel, trace } from '@opentelemetry/api';
import type { SpanContext } from '@opentelemetry/api';
import { createRedactor, readCanaryBaggage } from '@otel-checkout/core';
import { listenOnLoopback, startHttpServer } from '@otel-checkout/test-support';
import type { StartedHttpServer } from '@otel-checkout/test-support';
import fc from 'fast-check';
import { httpCallback, httpPayments, payments } from '../../src/index.js';
import type { HttpCallbackHandler, NodeHealth } from '../../src/index.js';
import { httpGet } from '../support/http-get.js';
import { parseRawResponse, parseRawResponses, sendRaw } from '../support/raw-http.js';
import type { RawHttpResponse } from '../support/raw-http.js';
import type { SpanRecord } from '../support/span-record.js';
import { assertTracestate, judgeBaggage, judgeTraceparent, judgeTracestate, owsTrim } from '../support/w3c-headers.js';
import type { BaggageVerdict, TraceparentVerdict, TracestateVerdict } from '../support/w3c-headers.js';
import { startTracingSession } from '../support/tracing-session.js';
import type { TracingSession } from '../support/tracing-session.js';

// A real node:http server with the payment and callback middleware, in both modes, fed over
// raw sockets with generated trace context, baggage, flow tokens and bodies, including bytes
// Node's own client refuses to send. The expectations come from the W3C specifications and
// the README, not from the package's parsers.

const SERVICE_RELEASE = '1.4.0';
const KEYS = { current: { id: 'fuzz-1', secret: 'raw-socket-fuzz-secret-0123456789' } };
/** Put into every baggage value that must never leave the process; `~` keeps it off every release's shape. */
const MARKER = 'evil~';
const ALLOWED_BAGGAGE = new Set(['checkout.release', 'checkout.canary.cohort']);
const MAX_CALLBACK_BODY = 65_536;
/** What Node adds to an answer of its own accord. */
const NODE_RESPONSE_HEADERS = new Set(['connection', 'content-length', 'date', 'keep-alive']);
/** The answer status on which the payment route's outcome hook throws. */
const OUTCOME_HOOK_FAILS = 409;

// ---------------------------------------------------------------------------------------------
// The README's rules for baggage

const redactor = createRedactor();

/**
 * The README's rule: allow-listed keys only, values of at most 128 characters, a release or
 * cohort of its shape, nothing the redaction rules would change.
 */
function hasItsShape(key: string, value: string): boolean {
  if (!ALLOWED_BAGGAGE.has(key) || value.length > 128 || redactor.redactText(value) !== value) return false;
  const read = readCanaryBaggage((name) => (name === key ? value : undefined));
  return read.release === value || read.cohort === value;
}

function keptBaggage(verdict: BaggageVerdict): Map<string, string> {
  return new Map([...verdict.entries].filter(([key, value]) => hasItsShape(key, value)));
}

// ---------------------------------------------------------------------------------------------
// Generated requests

/** A header value as the bytes on the wire, one character per byte. */
type ByteString = string;
const utf8Bytes = (text: string): ByteString => Buffer.from(text, 'utf8').toString('latin1');
/** Any JS string as wire bytes: UTF-8 when it holds characters beyond one byte, never a CR or LF (they would end the header line). */
const wire = (text: string): ByteString => (/[\u0100-\uffff]/.test(text) ? utf8Bytes(text) : text).replace(/[\r\n]/g, '');
/** Bytes Node accepts in a header value (HTAB, visible ASCII, obs-text); anything else it answers with 400 itself. */
const ACCEPTED_HEADER_BYTES = /^[\t\x20-\x7e\x80-\xff]*$/;

const HEX = [...'0123456789abcdef'];
const hex = (length: number) => fc.string({ unit: fc.constantFrom(...HEX), minLength: length, maxLength: length });
const flags = fc.oneof({ weight: 3, arbitrary: fc.constant('01') }, { weight: 1, arbitrary: hex(2) });
const validTraceparent = fc.tuple(hex(32), hex(16), flags).map(([traceId, parentId, f]) => `00-${traceId}-${parentId}-${f}`);
const unicodeText = fc.string({ unit: 'binary', minLength: 1, maxLength: 6 });

const insertAt = (text: string, at: number, part: string) => {
  const k = at % (text.length + 1);
  return text.slice(0, k) + part + text.slice(k);
};
const traceparentMutation: fc.Arbitrary<(value: string) => string> = fc.oneof(
  fc.constant((v: string) => v.toUpperCase()),
  fc.nat().map((i) => (v: string) => {
    const k = i % v.length;
    return v.slice(0, k) + v.charAt(k).toUpperCase() + v.slice(k + 1);
  }),
  fc.constant((v: string) => `${v.slice(0, 3)}${'0'.repeat(32)}${v.slice(35)}`),
  fc.constant((v: string) => `${v.slice(0, 36)}${'0'.repeat(16)}${v.slice(52)}`),
  fc.constantFrom('ff', 'fe', '01', 'cc', '0A', 'f', '000', 'zz').map((version) => (v: string) => version + v.slice(2)),
  fc.tuple(fc.constantFrom('cc', '00', '01'), fc.string({ maxLength: 12 })).map(([version, extra]) => (v: string) => `${version}${v.slice(2)}-${extra}`),
  fc.tuple(fc.constantFrom('cc', '01'), fc.string({ minLength: 1, maxLength: 3 })).map(([version, extra]) => (v: string) => `${version}${v.slice(2)}${extra}`),
  fc.nat().map((i) => (v: string) => {
    const k = i % v.length;
    return v.slice(0, k) + v.slice(k + 1);
  }),
  fc.tuple(fc.nat(), fc.constantFrom(...HEX, '-', 'g', ' ')).map(([i, c]) => (v: string) => insertAt(v, i, c)),
  fc.tuple(fc.nat(), unicodeText).map(([i, c]) => (v: string) => insertAt(v, i, utf8Bytes(c))),
  // A no-break space (one byte, 0xa0) is whitespace to JavaScript's trim(), but not to HTTP or the spec.
  fc.constantFrom('\u00a0', ' \t', '\u00a0 ').chain((space) => fc.constantFrom((v: string) => space + v, (v: string) => v + space)),
  // A later version with a long tail: valid up to the 512-character bound, oversize beyond it.
  fc.integer({ min: 420, max: 520 }).map((n) => (v: string) => `cc${v.slice(2)}-${'a'.repeat(n)}`),
);
const traceparentValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: validTraceparent },
  { weight: 6, arbitrary: fc.tuple(validTraceparent, traceparentMutation).map(([v, mutate]) => mutate(v)) },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }) },
);

const tracestateKey = fc.oneof(
  fc.constantFrom('rojo', 'congo', 'a', 'b'),
  fc.stringMatching(/^[a-z][a-z0-9_\-*/]{0,10}$/),
  fc.tuple(fc.stringMatching(/^[a-z0-9][a-z0-9_\-*/]{0,6}$/), fc.stringMatching(/^[a-z][a-z0-9]{0,4}$/)).map(([tenant, system]) => `${tenant}@${system}`),
);
const tracestateMember = fc.oneof(
  { weight: 5, arbitrary: fc.tuple(tracestateKey, fc.stringMatching(/^[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,12}[\x21-\x2b\x2d-\x3c\x3e-\x7e]$/)).map(([k, v]) => `${k}=${v}`) },
  { weight: 1, arbitrary: fc.constantFrom('Key=1', '1a=1', 'a=b=c', 'a=', 'novalue', '=1', `a=${'v'.repeat(257)}`, `${'k'.repeat(257)}=1`, `t@${'s'.repeat(15)}=1`) },
  { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  { weight: 1, arbitrary: unicodeText.map((text) => utf8Bytes(`u=${text}`)) },
);
const ows = fc.constantFrom('', '', ' ', '\t', ' \t ');
const tracestateValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.array(fc.tuple(ows, tracestateMember, ows), { maxLength: 6 }).map((members) => members.map((m) => m.join('')).join(',')) },
  { weight: 1, arbitrary: fc.integer({ min: 30, max: 40 }).map((n) => Array.from({ length: n }, (_, i) => `k${i}=v${i}`).join(',')) },
  {
    weight: 1,
    arbitrary: fc
      .array(fc.integer({ min: 8, max: 250 }), { minLength: 1, maxLength: 8 })
      .map((lengths) => lengths.map((length, i) => `k${i}=${'v'.repeat(length)}`).join(',')),
  },
);

const release = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._+\-:/@]{0,24}$/);
const hostile = fc.string({ maxLength: 12 }).map((text) => `${MARKER}${text}`);
const baggageMember: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: release.map((r) => `checkout.release=${r}`) },
  { weight: 1, arbitrary: release.map((r) => `checkout.release=${encodeURIComponent(r)}`) },
  { weight: 3, arbitrary: fc.constantFrom('canary', 'stable').map((c) => `checkout.canary.cohort=${c}`) },
  { weight: 2, arbitrary: fc.tuple(fc.constantFrom('checkout.release', 'checkout.canary.cohort'), hostile).map(([k, v]) => `${k}=${encodeURIComponent(v)}`) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom('checkout.canary.cohort=canary', 'checkout.release=2.0.0', 'other=1'), hostile, fc.boolean())
      .map(([member, v, withValue]) => (withValue ? `${member};prop=${encodeURIComponent(v)}` : `${member};${encodeURIComponent(v).replace(/%/g, '')}`)),
  },
  { weight: 1, arbitrary: fc.constant(`checkout.release=${'1'.repeat(129)}`) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(fc.constantFrom('service.version', 'user.id', 'Checkout.Release', 'checkout.release.x', `${MARKER}key`), hostile)
      .map(([k, v]) => `${k}=${encodeURIComponent(v)}`),
  },
  {
    weight: 2,
    arbitrary: fc.constantFrom(
      'noequals',
      '=value',
      'k y=v',
      'key=%ZZ',
      'key=a b',
      'key="q"',
      'checkout.release=1.0%',
      'key=%C3',
      'checkout%2Erelease=9.9.9',
      'checkout.release=',
      ' checkout.release = 2.0.1 ',
      '\u00a0checkout.release=3.0.0',
    ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 20 }) },
  { weight: 1, arbitrary: unicodeText.map((text) => `checkout.release=${text}`) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '\t') },
);
const baggageValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 6, arbitrary: fc.array(fc.tuple(ows, baggageMember, ows), { maxLength: 6 }).map((members) => members.map((m) => m.join('')).join(',')) },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.integer({ min: 9, max: 200 }), release)
      .map(([n, r]) => [...Array.from({ length: n }, (_, i) => `k${i}=${MARKER}${i}`), `checkout.release=${r}`].join(',')),
  },
  { weight: 1, arbitrary: fc.tuple(release, fc.integer({ min: 8100, max: 8300 })).map(([r, n]) => `checkout.release=${r},pad=${MARKER}${'x'.repeat(n)}`) },
);

const tradeNo = fc.oneof(fc.constantFrom('FUZZ-A', 'FUZZ-B'), fc.string({ maxLength: 10 }));

/** Flow tokens: the genuine ones, and near misses of them. */
function flowTokens(genuine: readonly string[]): fc.Arbitrary<string> {
  const one = fc.constantFrom(...genuine);
  return fc.oneof(
    { weight: 3, arbitrary: one },
    { weight: 1, arbitrary: fc.tuple(one, fc.nat()).map(([t, n]) => t.slice(0, n % t.length)) },
    {
      weight: 2,
      arbitrary: fc.tuple(one, fc.nat(), fc.nat(7)).map(([t, i, bit]) => {
        const bytes = Buffer.from(t, 'base64url');
        bytes[i % bytes.length] ^= 1 << bit;
        return bytes.toString('base64url');
      }),
    },
    {
      weight: 2,
      arbitrary: fc.tuple(one, fc.nat(), fc.nat(5)).map(([t, i, bit]) => {
        const k = i % t.length;
        return t.slice(0, k) + String.fromCharCode(t.charCodeAt(k) ^ (1 << bit)) + t.slice(k + 1);
      }),
    },
    { weight: 1, arbitrary: one.map((t) => `${t}A`) },
    { weight: 1, arbitrary: one.map((t) => t.toUpperCase()) },
    { weight: 1, arbitrary: fc.string({ maxLength: 80 }) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }) },
    { weight: 1, arbitrary: fc.constant('') },
  );
}

function bodies(token: fc.Arbitrary<string>): fc.Arbitrary<Buffer> {
  const fields = fc.record(
    {
      otc_flow: token,
      trade_no: tradeNo,
      status: fc.constantFrom('PAID', 'WAIT', 'weird'),
      meta: fc.record({ passback: token }, { requiredKeys: [] }),
      note: fc.string({ unit: 'binary', maxLength: 20 }),
    },
    { requiredKeys: [] },
  );
  return fc.oneof(
    { weight: 3, arbitrary: fc.constant(Buffer.alloc(0)) },
    { weight: 4, arbitrary: fields.map((object) => Buffer.from(JSON.stringify(object))) },
    {
      weight: 2,
      arbitrary: fields.map((object) => {
        const form = new URLSearchParams();
        for (const [key, value] of Object.entries(object)) form.append(key, typeof value === 'string' ? value : JSON.stringify(value));
        return Buffer.from(form.toString());
      }),
    },
    { weight: 2, arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes) => Buffer.from(bytes)) },
    { weight: 1, arbitrary: fc.string({ maxLength: 40 }).map((text) => Buffer.from(`{${text}`)) },
    { weight: 1, arbitrary: fc.constantFrom('[]', '"x"', '42', 'null', ' {"otc_flow": 1}', '\ufeff{}', '   ', '{"a":1}}').map((text) => Buffer.from(text)) },
    { weight: 1, arbitrary: fc.integer({ min: 500, max: 12_000 }).map((depth) => Buffer.from(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`)) },
    {
      weight: 1,
      // Around the callback's 64 KiB reading bound.
      arbitrary: fc.tuple(token, fc.integer({ min: MAX_CALLBACK_BODY - 300, max: MAX_CALLBACK_BODY + 300 })).map(([t, size]) => {
        const head = JSON.stringify({ otc_flow: t, pad: '' }).slice(0, -2);
        return Buffer.from(`${head}${'x'.repeat(Math.max(0, size - head.length - 2))}"}`);
      }),
    },
  );
}

const headerName = (name: string) => fc.constantFrom(name, name.toUpperCase(), name.replace(/(^|-)[a-z]/g, (s) => s.toUpperCase()));
const named = (name: string, values: fc.Arbitrary<string[]>) =>
  values.chain((list) => (list.length === 0 ? fc.constant([] as Array<[string, string]>) : fc.tuple(...list.map((value) => headerName(name).map((n): [string, string] => [n, value])))));
/** Mostly none or one, sometimes repeated. */
const some = (value: fc.Arbitrary<string>, max: number) =>
  fc.oneof({ weight: 2, arbitrary: fc.constant([] as string[]) }, { weight: 5, arbitrary: value.map((v) => [v]) }, { weight: 1, arbitrary: fc.array(value, { minLength: 2, maxLength: max }) });

interface RequestShape {
  route: 'pay' | 'notify';
  method: string;
  query: string;
  /** Generated headers in the order sent, values as wire bytes. */
  headers: Array<[string, string]>;
  contentType: string | undefined;
  body: Buffer;
  framing: 'length' | 'chunked' | 'truncated';
  chunkSizes: number[];
  status: number;
  /** Hooks told to throw. */
  throws: string[];
  readStyle: 'events' | 'iterate';
  /** The request bytes are written in this many parts. */
  pieces: number;
}

function requests(genuineTokens: readonly string[]): fc.Arbitrary<RequestShape> {
  const token = flowTokens(genuineTokens);
  const queryParam = fc.oneof(
    token.map((t) => `otc_flow=${encodeURIComponent(t)}`),
    fc.stringMatching(/^[A-Za-z0-9\-._~!$&'()*+,;=:@/?%]{0,30}$/),
    fc.string({ unit: 'binary', maxLength: 10 }).map((text) => `q=${encodeURIComponent(text)}`),
  );
  // Bytes no header value may hold (control characters, DEL): Node itself answers those with 400.
  const hostileHeader = fc
    .tuple(fc.constantFrom('traceparent', 'tracestate', 'baggage', 'x-otc-flow'), fc.uint8Array({ minLength: 1, maxLength: 40 }))
    .map(([name, bytes]): [string, string] => [name, Buffer.from(bytes).toString('latin1').replace(/[\r\n]/g, '')]);
  const generated = fc
    .tuple(
      named('traceparent', some(traceparentValue, 3)),
      named('tracestate', some(tracestateValue, 2)),
      named('baggage', some(baggageValue, 2)),
      named('x-otc-flow', some(token, 2)),
      named('x-trade-no', fc.oneof(fc.constant([] as string[]), tradeNo.map((t) => [t]))),
    )
    .map((groups) => groups.flat().map(([name, value]): [string, string] => [name, wire(value)]));
  const headers = fc
    .tuple(generated, fc.oneof({ weight: 12, arbitrary: fc.constant([] as Array<[string, string]>) }, { weight: 1, arbitrary: hostileHeader.map((h) => [h]) }))
    .chain(([plain, hostileOnes]) => fc.shuffledSubarray([...plain, ...hostileOnes], { minLength: plain.length + hostileOnes.length }));
  return fc.record({
    route: fc.constantFrom('pay', 'notify'),
    method: fc.oneof({ weight: 5, arbitrary: fc.constant('POST') }, { weight: 2, arbitrary: fc.constantFrom('GET', 'PUT', 'PATCH', 'DELETE', 'OPTIONS') }),
    query: fc.array(queryParam, { maxLength: 3 }).map((params) => (params.length === 0 ? '' : `?${params.join('&')}`)),
    headers,
    contentType: fc.option(fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain', 'application/xml', 'multipart/form-data; boundary=x', '*/*;;;'), { nil: undefined }),
    body: bodies(token),
    framing: fc.oneof({ weight: 6, arbitrary: fc.constant('length' as const) }, { weight: 3, arbitrary: fc.constant('chunked' as const) }, { weight: 1, arbitrary: fc.constant('truncated' as const) }),
    chunkSizes: fc.array(fc.integer({ min: 1, max: 5000 }), { maxLength: 4 }),
    status: fc.constantFrom(200, 201, 202, 400, 402, 404, 409, 500, 502, 503),
    throws: fc.subarray(['extract', 'outcome', 'tradeNo', 'status']),
    readStyle: fc.constantFrom('events', 'iterate'),
    pieces: fc.integer({ min: 1, max: 3 }),
  })
    // A client that gives up mid-body closes the response before the handler answers: the outcome hook then sees no 409.
    .map((shape) => (shape.framing === 'truncated' && shape.status === OUTCOME_HOOK_FAILS ? { ...shape, status: 402 } : shape))
    .map((shape) => Object.assign(shape, { [fc.toStringMethod]: () => describeShape(shape) }));
}

const abbreviate = (text: string): string => (text.length > 120 ? `${text.slice(0, 100)}... (${text.length} characters)` : text);

/** A request for a failure message: long values cut short, the body as its length and start. */
function describeShape(shape: RequestShape): string {
  const text = JSON.stringify({
    ...shape,
    query: abbreviate(shape.query),
    headers: shape.headers.map(([name, value]) => [name, abbreviate(value)]),
    body: `${shape.body.length} bytes: ${abbreviate(shape.body.toString('latin1'))}`,
  });
  // Bytes beyond ASCII (many print as nothing) as escapes.
  return text.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Whether Node takes the request at all: no header byte it answers with 400 itself. */
const acceptable = (shape: RequestShape): boolean => shape.headers.every(([, value]) => ACCEPTED_HEADER_BYTES.test(value));

/** The request as bytes, and the headers as Node hands them to the application (raw and joined). */
function encodeRequest(shape: RequestShape, id: string, connection: 'close' | 'keep-alive'): { parts: Buffer[]; rawHeaders: string[]; headers: Record<string, string> } {
  const lines: Array<[string, string]> = [
    ['Host', '127.0.0.1'],
    ['Connection', connection],
    ['x-fuzz-status', String(shape.status)],
    ...(shape.throws.length > 0 ? [['x-fuzz-throw', shape.throws.join(',')] as [string, string]] : []),
    ['x-fuzz-read', shape.readStyle],
    ...(shape.contentType === undefined ? [] : [['Content-Type', shape.contentType] as [string, string]]),
    ...shape.headers,
  ];
  let body = shape.body;
  if (shape.framing === 'chunked') {
    lines.push(['Transfer-Encoding', 'chunked']);
    const chunks: Buffer[] = [];
    let at = 0;
    for (const size of [...shape.chunkSizes, Infinity]) {
      if (at >= shape.body.length) break;
      const chunk = shape.body.subarray(at, at + size);
      at += chunk.length;
      chunks.push(Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, Buffer.from('\r\n'));
    }
    body = Buffer.concat([...chunks, Buffer.from('0\r\n\r\n')]);
  } else {
    // A truncated body announces more than is sent: the client gives up mid-body.
    lines.push(['Content-Length', String(shape.body.length + (shape.framing === 'truncated' ? 1 + (shape.chunkSizes[0] ?? 0) : 0))]);
  }
  const head = Buffer.from(`${shape.method} /${shape.route}/${id}${shape.query} HTTP/1.1\r\n${lines.map(([name, value]) => `${name}: ${value}\r\n`).join('')}\r\n`, 'latin1');
  const bytes = Buffer.concat([head, body]);
  const parts: Buffer[] = [];
  for (let i = 0; i < shape.pieces; i++) parts.push(bytes.subarray(Math.floor((bytes.length * i) / shape.pieces), Math.floor((bytes.length * (i + 1)) / shape.pieces)));
  const rawHeaders = lines.flatMap(([name, value]) => [name, owsTrim(value)]);
  const headers: Record<string, string> = {};
  for (const [name, value] of lines) {
    const key = name.toLowerCase();
    // Node keeps the first of a repeated Content-Type and Host, and joins the others.
    if (key in headers && (key === 'content-type' || key === 'host')) continue;
    headers[key] = key in headers ? `${headers[key]}, ${owsTrim(value)}` : owsTrim(value);
  }
  return { parts: parts.filter((part) => part.length > 0), rawHeaders, headers };
}

// ---------------------------------------------------------------------------------------------
// The application

interface Observation {
  runs: number;
  rawHeaders?: string[];
  /** The active span when the handler started: the server span (payment route) or payment.callback. */
  active?: SpanContext;
  /** What httpCallback's readBody handed to the handler. */
  handedBody?: Buffer;
  body?: Buffer;
  bodyError?: unknown;
  errors: unknown[];
  written?: { status: number; body: string };
  closed: boolean;
}

/** Reads what is left of a request body; rejects when the client gave up (also on a stream that already died). */
function readRest(req: IncomingMessage, style: string): Promise<Buffer> {
  if (style === 'iterate') {
    return (async () => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      return Buffer.concat(chunks);
    })();
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    finished(req, (error) => (error ? reject(error) : resolve(Buffer.concat(chunks))));
  });
}

class App {
  readonly observations = new Map<string, Observation>();
  readonly forwarded = new Map<string, http.IncomingHttpHeaders>();

  constructor(private readonly sinkUrl: () => string) {}

  observe(req: IncomingMessage, res: ServerResponse): Observation {
    const id = /^\/(?:pay|notify)\/([^/?]+)/.exec(req.url ?? '')?.[1] ?? '?';
    let seen = this.observations.get(id);
    if (seen === undefined) this.observations.set(id, (seen = { runs: 0, errors: [], closed: false }));
    seen.runs += 1;
    seen.rawHeaders = [...req.rawHeaders];
    seen.active = trace.getActiveSpan()?.spanContext();
    // Added after the middleware's own 'close' listeners: once it ran, the instrumentation is done with the request.
    // (A callback whose client gave up mid-body reaches its handler after the response closed.)
    const observation = seen;
    if (res.closed) seen.closed = true;
    else res.once('close', () => (observation.closed = true));
    return seen;
  }

  answer(req: IncomingMessage, res: ServerResponse, seen: Observation): void {
    const status = Number(req.headers['x-fuzz-status']);
    const body = JSON.stringify({ received: seen.body?.length ?? null, handed: seen.handedBody?.length ?? null });
    seen.written = { status, body };
    res.statusCode = status;
    res.setHeader('content-type', 'application/json');
    res.setHeader('x-fuzz-handler', 'yes');
    res.end(body);
  }

  readonly pay = httpPayments(
    async (req, res) => {
      const seen = this.observe(req, res);
      try {
        seen.body = await readRest(req, String(req.headers['x-fuzz-read']));
      } catch (error) {
        seen.bodyError = error;
      }
      try {
        const id = /^\/pay\/([^/?]+)/.exec(req.url ?? '')?.[1] ?? '?';
        await payments.create({ tradeNo: `PAY-${id}`, provider: 'acme', method: 'card' }, (flow) =>
          flow.providerCall('charge', (call) => httpGet(`${this.sinkUrl()}/sink/${id}`, call.inject({}))),
        );
      } catch (error) {
        seen.errors.push(error);
      }
      this.answer(req, res, seen);
    },
    {
      extract: (request) => {
        request.json();
        if (throwsFor(request.headers, 'extract')) throw new Error('extractor failed');
        const tradeNoHeader = request.headers['x-trade-no'];
        return { tradeNo: typeof tradeNoHeader === 'string' ? tradeNoHeader : undefined, provider: 'acme' };
      },
      // The outcome hook sees only the response: it fails on the one status the requests pick for that.
      outcome: (response) => {
        if (response.statusCode === OUTCOME_HOOK_FAILS) throw new Error('outcome hook failed');
        return undefined;
      },
    },
  );

  private readonly notifyHandler: HttpCallbackHandler = (req, res, body) => {
    const seen = this.observe(req, res);
    seen.handedBody = body;
    void (async () => {
      try {
        seen.body = body ?? (await readRest(req, String(req.headers['x-fuzz-read'])));
      } catch (error) {
        seen.bodyError = error;
      }
      this.answer(req, res, seen);
    })();
  };

  readonly notify = httpCallback(this.notifyHandler, {
    readBody: true,
    passbackField: 'meta.passback',
    tradeNo: (request, fields) => {
      if (throwsFor(request.headers, 'tradeNo')) throw new Error('tradeNo hook failed');
      const header = request.headers['x-trade-no'];
      if (typeof header === 'string') return header;
      return typeof fields?.trade_no === 'string' ? fields.trade_no : undefined;
    },
    outcome: (request) => {
      request.json();
      if (throwsFor(request.headers, 'outcome')) throw new Error('outcome hook failed');
      return undefined;
    },
    status: (request, fields) => {
      if (throwsFor(request.headers, 'status')) throw new Error('status hook failed');
      return typeof fields?.status === 'string' ? fields.status : undefined;
    },
    statusTable: { PAID: 'succeeded', WAIT: 'pending' },
  });

  readonly listener = (req: IncomingMessage, res: ServerResponse): void => {
    if (req.url?.startsWith('/notify/')) this.notify(req, res);
    else void this.pay(req, res);
  };
}

function throwsFor(headers: IncomingMessage['headers'], hook: string): boolean {
  const value = headers['x-fuzz-throw'];
  return typeof value === 'string' && value.split(',').includes(hook);
}

// ---------------------------------------------------------------------------------------------
// Expectations per request

/** Health counters the model predicts exactly. */
const MODELLED = [
  'malformedTraceparent',
  'malformedTracestate',
  'malformedBaggage',
  'oversizeHeaders',
  'baggageDropped',
  'nonJsonBodies',
  'extractorErrors',
  'hookErrors',
  'tokensRejected',
  'callbacks',
  'callbacksUncorrelated',
] as const;
type Counts = Record<(typeof MODELLED)[number], number>;
const zeroCounts = (): Counts => Object.fromEntries(MODELLED.map((name) => [name, 0])) as Counts;

interface Flow {
  token: string;
  tradeNo: string;
  traceId: string;
  spanId: string;
}

interface Expectation {
  traceparent: TraceparentVerdict | undefined;
  tracestate: TracestateVerdict;
  baggage: BaggageVerdict;
  /** The propagation headers were read (not on lean mode's callback route, which has no HTTP server span). */
  extracted: boolean;
  counts: Counts;
  /** Counters this request may or may not move (see BaggageVerdict.exact). */
  uncertain: Array<keyof Counts>;
  callback?: { parent: Flow | undefined; correlation: string };
}

function jsonObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function expectationOf(shape: RequestShape, headers: Record<string, string>, lean: boolean, flows: readonly Flow[]): Expectation {
  const counts = zeroCounts();
  const uncertain: Array<keyof Counts> = [];
  const extracted = !(lean && shape.route === 'notify');
  const traceparent = headers.traceparent === undefined ? undefined : judgeTraceparent(headers.traceparent);
  // The tracestate is read only with a valid traceparent (Trace Context 3.3).
  const tracestate = judgeTracestate(traceparent?.valid ? headers.tracestate : undefined);
  const baggage = judgeBaggage(headers.baggage);
  if (extracted) {
    if (traceparent && !traceparent.valid) counts[traceparent.counter] += 1;
    if (tracestate.counter) counts[tracestate.counter] += 1;
    if (baggage.oversize) {
      counts.oversizeHeaders += 1;
      counts.baggageDropped += 1;
    }
    if (baggage.malformed) counts.malformedBaggage += 1;
    else if (baggage.undecodable) uncertain.push('malformedBaggage');
    if (baggage.exact) counts.baggageDropped += baggage.entries.size - keptBaggage(baggage).size;
    else if (!baggage.oversize) uncertain.push('baggageDropped');
  }
  const throws = (hook: string) => shape.throws.includes(hook);
  if (shape.route === 'pay') {
    if (throws('extract')) counts.extractorErrors += 1;
    if (shape.status === OUTCOME_HOOK_FAILS) counts.hookErrors += 1;
    return { traceparent, tracestate, baggage, extracted, counts, uncertain };
  }
  counts.callbacks += 1;
  counts.hookErrors += ['tradeNo', 'outcome', 'status'].filter(throws).length;
  // README: with readBody, a body of at most maxBodyBytes is read, as JSON when it looks like JSON, else as a form.
  const read = shape.framing !== 'truncated' && shape.body.length <= MAX_CALLBACK_BODY;
  const text = read ? shape.body.toString('utf8') : '';
  if (text.length > 0 && jsonObject(text) === undefined) counts.nonJsonBodies += 1;
  const fields: Record<string, unknown> | undefined =
    text.length === 0 ? undefined : text.trimStart().startsWith('{') ? jsonObject(text) : Object.fromEntries(new URLSearchParams(text));
  const field = (object: unknown, key: string): unknown =>
    typeof object === 'object' && object !== null && Object.prototype.hasOwnProperty.call(object, key) ? (object as Record<string, unknown>)[key] : undefined;
  const asString = (value: unknown) => (typeof value === 'string' ? value : undefined);
  const candidates: Array<[string, string | undefined]> = [
    ['token_query', new URLSearchParams(shape.query.slice(1)).get('otc_flow') ?? undefined],
    ['token_body', asString(field(fields, 'otc_flow'))],
    ['token_header', headerToken(headers['x-otc-flow'])],
    ['passback', asString(field(field(fields, 'meta'), 'passback'))],
  ];
  let byToken: Flow | undefined;
  let correlation = 'none';
  for (const [kind, value] of candidates) {
    if (value === undefined || value === '') continue;
    byToken = flows.find((flow) => flow.token === value);
    if (byToken) {
      correlation = kind;
      break;
    }
    counts.tokensRejected += 1;
  }
  const callbackTradeNo = throws('tradeNo') ? undefined : (headers['x-trade-no'] ?? asString(field(fields, 'trade_no')));
  const stored = flows.find((flow) => flow.tradeNo === callbackTradeNo);
  // The store, keyed by the callback's trade number, wins over a token of another flow.
  if (stored && stored !== byToken) {
    if (byToken) counts.tokensRejected += 1;
    correlation = 'store';
  }
  const parent = stored ?? byToken;
  if (!parent) counts.callbacksUncorrelated += 1;
  return { traceparent, tracestate, baggage, extracted, counts, uncertain, callback: { parent, correlation } };
}

/**
 * The token a (possibly repeated, so joined) token header holds, as the README states it: the
 * copies count when they are all the same token; different ones stay joined and are rejected.
 */
function headerToken(joined: string | undefined): string | undefined {
  if (joined === undefined) return undefined;
  const copies = joined.split(',').map((copy) => copy.replace(/^[ \t]+|[ \t]+$/g, ''));
  return copies.every((copy) => copy === copies[0]) ? copies[0] : joined;
}

/** Whether the request's HTTP server span is sampled: ParentBased keeps an incoming decision. */
const sampled = (e: Expectation) => !(e.traceparent?.valid && !e.traceparent.sampled);

function assertServerSpan(span: SpanRecord, e: Expectation, traceparentHeader: string | undefined, where: string): void {
  if (e.traceparent?.valid) {
    assert.equal(span.traceId, e.traceparent.traceId, `${where}: joins the valid traceparent's trace`);
    assert.equal(span.parentSpanId, e.traceparent.parentId, `${where}: child of the traceparent's span`);
    assertTracestate(span.traceState, e.tracestate, where);
  } else {
    assert.equal(span.parentSpanId, '', `${where}: a new trace`);
    assert.ok(!(traceparentHeader ?? '').includes(span.traceId), `${where}: a fresh trace id`);
    assert.equal(span.traceState, '', `${where}: no tracestate without a valid traceparent`);
  }
}

/** Release and cohort on a payment route's span: from allow-listed incoming baggage of their shape, else the service's own release. */
function assertCanary(span: SpanRecord, e: Expectation, headerValue: string | undefined, where: string): void {
  const releaseValue = span.attributes['checkout.release'];
  const cohort = span.attributes['checkout.canary.cohort'];
  if (!e.extracted) return;
  if (e.baggage.exact) {
    const kept = keptBaggage(e.baggage);
    assert.equal(releaseValue, kept.get('checkout.release') ?? SERVICE_RELEASE, `${where}: checkout.release`);
    assert.equal(cohort, kept.get('checkout.canary.cohort'), `${where}: checkout.canary.cohort`);
  } else {
    if (releaseValue !== SERVICE_RELEASE) assertCameIn('checkout.release', releaseValue, headerValue, where);
    if (cohort !== undefined) assertCameIn('checkout.canary.cohort', cohort, headerValue, where);
  }
}

function assertCameIn(key: string, value: unknown, headerValue: string | undefined, where: string): void {
  assert.ok(typeof value === 'string' && hasItsShape(key, value), `${where}: ${key} ${String(value)} is of its shape`);
  assert.ok(headerValue?.includes(value) || headerValue?.includes(encodeURIComponent(value)), `${where}: ${key} ${value} came in`);
}

/** Baggage a payment route forwards: the kept allow-listed entries, without properties. */
function assertForwardedBaggage(forwarded: string | undefined, e: Expectation, headerValue: string | undefined, where: string): void {
  const entries = new Map<string, string>();
  for (const member of forwarded === undefined || forwarded === '' ? [] : forwarded.split(',')) {
    assert.ok(!member.includes(';'), `${where}: no baggage properties forwarded: ${forwarded}`);
    const eq = member.indexOf('=');
    entries.set(decodeURIComponent(member.slice(0, eq).trim()), decodeURIComponent(member.slice(eq + 1).trim()));
  }
  if (e.baggage.exact || !e.extracted) {
    assert.deepEqual(entries, e.extracted ? keptBaggage(e.baggage) : new Map(), `${where}: forwarded baggage`);
    return;
  }
  for (const [key, value] of entries) assertCameIn(key, value, headerValue, where);
}

// ---------------------------------------------------------------------------------------------

/** Runs of one to three requests each, about 12 ms a run: a few seconds per mode. */
const RUNS = 250;

for (const mode of ['lean', 'default'] as const) {
  describe(`raw requests on a node:http payment server (${mode} mode)`, function () {
    let session: TracingSession;
    let app: App;
    let server: StartedHttpServer;
    let sink: StartedHttpServer;
    let flows: Flow[];
    const warnings: string[] = [];
    const failures: unknown[] = [];
    const onFailure = (error: unknown): void => void failures.push(error);
    let nextId = 0;

    before(async () => {
      process.on('uncaughtException', onFailure);
      process.on('unhandledRejection', onFailure);
      const record = (message: string): void => void warnings.push(message);
      diag.setLogger({ error: record, warn: record, info: () => {}, debug: () => {}, verbose: () => {} }, { logLevel: DiagLogLevel.WARN, suppressOverrideMessage: true });
      session = await startTracingSession('memory', {
        instrumentHttp: mode === 'default',
        flows: { keys: KEYS, sweeper: false },
        // The provider stand-in runs in this process: its requests are not the subject.
        ...(mode === 'default' ? { ignoreIncomingRequest: (request: IncomingMessage) => request.url?.startsWith('/sink/') === true } : {}),
      });
      sink = await startHttpServer((req, res) => {
        app.forwarded.set(/^\/sink\/(.+)$/.exec(req.url ?? '')?.[1] ?? '?', req.headers);
        res.end('ok');
      });
      app = new App(() => sink.url);
      server = await listenOnLoopback(http.createServer({ maxHeaderSize: 1 << 20 }, app.listener));
      // Two flows waiting in the store, each with a genuine token.
      flows = [];
      for (const tradeNo of ['FUZZ-A', 'FUZZ-B']) {
        const token = await payments.create({ tradeNo, provider: 'acme', method: 'card' }, (flow) => flow.passback());
        const [create] = await session.waitForSpans((s) => s.name === 'payment.create' && s.attributes['payment.trade_no'] === tradeNo);
        flows.push({ token, tradeNo, traceId: create.traceId, spanId: create.spanId });
      }
      assert.ok(flows.every((flow) => flow.token.length > 0));
    });

    after(async () => {
      await server?.close();
      await sink?.close();
      await session?.stop();
      diag.disable();
      process.off('uncaughtException', onFailure);
      process.off('unhandledRejection', onFailure);
    });

    it('answers as the application did, traces every request once, forwards only allow-listed baggage and counts what was wrong', async () => {
      const lean = mode === 'lean';
      await fc.assert(
        fc.asyncProperty(fc.array(requests(flows.map((flow) => flow.token)), { minLength: 1, maxLength: 3 }), fc.boolean(), async (shapes, oneConnection) => {
          session.clear();
          const before: NodeHealth = session.handle.health();
          // Several requests one after the other on one kept-alive connection, or each on its own, all at once.
          const pipelined = oneConnection && shapes.length > 1 && shapes.every((shape) => shape.framing !== 'truncated' && acceptable(shape));
          const sent = shapes.map((shape, index) => {
            const id = `r${nextId++}`;
            return { shape, id, ...encodeRequest(shape, id, pipelined && index < shapes.length - 1 ? 'keep-alive' : 'close') };
          });
          let answers: Array<RawHttpResponse | undefined>;
          if (pipelined) {
            const responses = parseRawResponses(await sendRaw(server.port, sent.flatMap(({ parts }) => parts), { timeoutMs: 10_000 }));
            answers = sent.map((_, index) => responses[index]);
          } else {
            answers = await Promise.all(
              sent.map(async ({ parts, shape }) => parseRawResponse(await sendRaw(server.port, parts, { then: shape.framing === 'truncated' ? 'end' : 'wait', timeoutMs: 10_000 }))),
            );
          }

          const expected = zeroCounts();
          const uncertain = new Set<string>();
          let expectedServerSpans = 0;
          // Wait until the instrumentation is done with every request the application got.
          for (const { id, shape } of sent) {
            for (let attempt = 0; attempt < 300; attempt++) {
              const seen = app.observations.get(id);
              if ((seen?.closed && seen.written) || (!acceptable(shape) && seen === undefined && attempt > 5)) break;
              await new Promise((resolve) => setTimeout(resolve, 10));
            }
          }
          await session.handle.flush();
          const spans = session.spans();

          for (const [index, { shape, id, rawHeaders, headers }] of sent.entries()) {
            const where = `${id} ${describeShape(shape)}`;
            const seen = app.observations.get(id);
            const response = answers[index];
            if (seen === undefined) {
              // Node refused the request itself (a byte no header may hold): the application never saw it.
              assert.ok(!acceptable(shape), `${where}: the handler never ran`);
              assert.equal(response?.status, 400, `${where}: Node's own answer`);
              assert.equal(spans.filter((s) => String(s.attributes['url.path']).endsWith(`/${id}`)).length, 0);
              continue;
            }
            // 1. The application's answer, exactly once, untouched.
            assert.equal(seen.runs, 1, `${where}: the handler ran once`);
            assert.ok(seen.closed && seen.written, `${where}: the handler answered`);
            assert.deepEqual(seen.errors, [], `${where}: nothing the application called threw`);
            assert.deepEqual(seen.rawHeaders, rawHeaders, `${where}: the request reached the handler as sent`);
            if (shape.framing === 'truncated') {
              assert.ok(seen.bodyError !== undefined, `${where}: the handler saw the client give up`);
              assert.ok(response === undefined || response.status === 400, `${where}: no answer, or Node's`);
            } else {
              assert.equal(seen.bodyError, undefined, `${where}: the body was readable`);
              assert.ok(seen.body?.equals(shape.body), `${where}: the handler got the whole body (${seen.body?.length} of ${shape.body.length} bytes)`);
              assert.ok(response, `${where}: an answer`);
              assert.equal(response.status, seen.written.status, `${where}: status as written`);
              assert.equal(response.body.toString('utf8'), seen.written.body, `${where}: body as written`);
              const names = response.headers.map(([name]) => name.toLowerCase());
              assert.ok(names.includes('content-type') && names.includes('x-fuzz-handler'), `${where}: the application's headers`);
              assert.deepEqual(names.filter((name) => !NODE_RESPONSE_HEADERS.has(name) && name !== 'content-type' && name !== 'x-fuzz-handler'), [], `${where}: no header but the application's and Node's`);
            }

            const e = expectationOf(shape, headers, lean, flows);
            for (const name of MODELLED) expected[name] += e.counts[name];
            for (const name of e.uncertain) uncertain.add(name);

            // 2. Its spans, exported once each, in the trace W3C says.
            const httpSpans = spans.filter((s) => s.kind === 'SERVER' && s.attributes['url.path'] === `/${shape.route}/${id}`);
            const hasHttpSpan = (shape.route === 'pay' || !lean) && sampled(e);
            assert.equal(httpSpans.length, hasHttpSpan ? 1 : 0, `${where}: HTTP server spans ${JSON.stringify(httpSpans)}`);
            expectedServerSpans += hasHttpSpan ? 1 : 0;
            if (hasHttpSpan) {
              const span = httpSpans[0];
              assertServerSpan(span, e, headers.traceparent, where);
              if (shape.route === 'pay') {
                assert.equal(span.spanId, seen.active?.spanId, `${where}: the handler ran inside the server span`);
                assertCanary(span, e, headers.baggage, where);
                if (shape.framing !== 'truncated') assert.equal(span.attributes['http.response.status_code'], shape.status);
              }
            }
            if (shape.route === 'pay') {
              const forwarded = app.forwarded.get(id);
              assert.ok(forwarded, `${where}: the provider was called`);
              const traceparent = String(forwarded.traceparent);
              if (hasHttpSpan) assert.equal(traceparent.slice(3, 35), httpSpans[0].traceId, `${where}: the provider call is in the request's trace`);
              else if (e.traceparent?.valid) assert.equal(traceparent.slice(3, 35), e.traceparent.traceId);
              if (e.traceparent?.valid) assertTracestate(String(forwarded.tracestate ?? ''), e.tracestate, `${where} (forwarded)`);
              else assert.equal(forwarded.tracestate, undefined, `${where}: no tracestate forwarded`);
              assertForwardedBaggage(forwarded.baggage as string | undefined, e, headers.baggage, `${where} (forwarded)`);
              assert.ok(!JSON.stringify(forwarded).includes(MARKER), `${where}: nothing of the client's baggage beyond the allow-list travels on: ${JSON.stringify(forwarded)}`);
            } else {
              // 3. A callback's parent: a verified token or the stored flow, nothing else.
              const callbacks = spans.filter((s) => s.name === 'payment.callback' && s.spanId === seen.active?.spanId);
              assert.equal(callbacks.length, 1, `${where}: one payment.callback, the handler's active span`);
              expectedServerSpans += 1;
              const callback = callbacks[0];
              const parent = e.callback!.parent;
              assert.equal(callback.parentSpanId, parent?.spanId ?? '', `${where}: parent ${parent?.tradeNo ?? 'none'}`);
              if (parent) assert.equal(callback.traceId, parent.traceId);
              else assert.ok(flows.every((flow) => flow.traceId !== callback.traceId), `${where}: a new trace`);
              assert.equal(callback.attributes['payment.callback.correlation'], e.callback!.correlation, `${where}: correlation`);
              assert.equal(seen.handedBody === undefined, shape.framing === 'truncated' || shape.body.length > MAX_CALLBACK_BODY, `${where}: body handed over when read`);
            }
          }
          assert.equal(spans.filter((s) => s.kind === 'SERVER').length, expectedServerSpans, 'no other server span');
          for (const span of spans) assert.ok(!JSON.stringify(span).includes(MARKER), `nothing of the client's baggage beyond the allow-list is exported: ${JSON.stringify(span)}`);

          // 4. Counters only grow, by what each request deserved.
          const after: NodeHealth = session.handle.health();
          for (const [name, value] of Object.entries(before)) assert.ok((after[name] ?? 0) >= value, `${name} only grows`);
          for (const name of MODELLED) {
            const grew = after[name] - before[name];
            if (uncertain.has(name)) assert.ok(grew >= expected[name], `${name}: at least ${expected[name]}, ${grew}`);
            else assert.equal(grew, expected[name], `${name}: ${sent.map((s) => s.id).join(',')}`);
          }
          assert.deepEqual(failures, [], 'no uncaught exception, no unhandled rejection');
        }),
        { numRuns: RUNS },
      );
      const health = session.handle.health();
      assert.equal(health.spansDropped, 0);
      assert.equal(health.exportFailures, 0);
      // Said once per kind, however many requests had the problem, and never with what they carried.
      // (Other lines may come from what earlier test files left running.)
      const own = warnings.filter((warning) => warning.startsWith('@otel-checkout/node:'));
      assert.equal(new Set(own).size, own.length, own.join('\n'));
      assert.ok(own.length <= 24, own.join('\n'));
      for (const warning of warnings) {
        assert.ok(!warning.includes(MARKER) && flows.every((flow) => !warning.includes(flow.token)), warning);
      }
    });
  });
}
