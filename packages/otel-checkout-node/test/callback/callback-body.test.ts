import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect } from 'node:net';
import type { Server } from 'node:http';
import { httpCallback } from '../../src/index.js';
import type { CallbackFields, CallbackOptions, Flows, PaymentRequest } from '../../src/index.js';
import type { HealthCounters } from '../../src/health.js';
import type { RequestView } from '../../src/http/request-view.js';
import { Harness } from './harness.js';

const FORM = 'trade_no=F-1&trade_status=TRADE_SUCCESS';

/** Hooks that each ask for `json()` twice, recording what they got. */
function greedyHooks(seen: Array<{ json: unknown; fields: CallbackFields }>): CallbackOptions {
  const read = (request: PaymentRequest, fields: CallbackFields): void => {
    seen.push({ json: request.json(), fields });
    seen.push({ json: request.json(), fields });
  };
  return {
    tradeNo: (request, fields) => (read(request, fields), fields?.trade_no as string | undefined),
    status: (request, fields) => (read(request, fields), fields?.trade_status as string | undefined),
    outcome: (request, fields) => (read(request, fields), undefined),
  };
}

describe('callback body: read once per request', () => {
  const harness = new Harness();
  let flows: Flows;
  let health: HealthCounters;
  before(() => harness.install());
  after(() => harness.uninstall());
  beforeEach(() => {
    ({ flows, health } = harness.flows({ store: false }));
    harness.reset();
  });
  afterEach(() => flows.shutdown());

  const unparsedForms: Array<[string, Partial<RequestView>]> = [
    ['a raw byte body (httpCallback readBody)', { rawBody: Buffer.from(FORM) }],
    ['a raw string body (Koa without a form parser)', { rawBody: FORM }],
    ['a string body (express.text)', { body: FORM }],
    ['a byte body (express.raw)', { body: Buffer.from(FORM) }],
  ];
  for (const [title, view] of unparsedForms) {
    it(`a form in ${title}: json() is undefined in every hook, counted once, fields still read`, async () => {
      const seen: Array<{ json: unknown; fields: CallbackFields }> = [];
      const scope = await flows.beginCallback(
        { method: 'POST', url: '/notify', headers: { 'content-type': 'application/x-www-form-urlencoded' }, ...view },
        greedyHooks(seen),
      );
      scope.end(200);
      assert.equal(seen.length, 6, 'three hooks, two calls each');
      for (const { json, fields } of seen) {
        assert.equal(json, undefined, 'a form body is not a JSON object');
        assert.deepEqual(fields, { trade_no: 'F-1', trade_status: 'TRADE_SUCCESS' });
      }
      assert.equal(health.get('nonJsonBodies'), 1, 'one request, one count');
      assert.equal(health.get('hookErrors'), 0);
      assert.equal(harness.callbacks()[0].attributes['payment.provider.status'], 'TRADE_SUCCESS');
    });
  }

  it('a form the framework parsed (express.urlencoded) is the object json() returns, not counted', async () => {
    const seen: Array<{ json: unknown; fields: CallbackFields }> = [];
    const parsed = { trade_no: 'F-1', trade_status: 'TRADE_SUCCESS' };
    const scope = await flows.beginCallback({ method: 'POST', url: '/notify', headers: {}, body: parsed, rawBody: FORM }, greedyHooks(seen));
    scope.end(200);
    for (const { json, fields } of seen) {
      assert.equal(json, parsed);
      assert.equal(fields, parsed);
    }
    assert.equal(health.get('nonJsonBodies'), 0);
  });

  it('a raw JSON body is parsed once for the token search and every hook', async () => {
    const seen: Array<{ json: unknown; fields: CallbackFields }> = [];
    const parse = JSON.parse;
    let parses = 0;
    JSON.parse = (...args: Parameters<typeof JSON.parse>): unknown => {
      parses++;
      return parse(...args);
    };
    try {
      const scope = await flows.beginCallback(
        { method: 'POST', url: '/notify', headers: {}, rawBody: Buffer.from('{"trade_no":"J-1","trade_status":"PAID"}') },
        greedyHooks(seen),
      );
      scope.end(200);
    } finally {
      JSON.parse = parse;
    }
    assert.equal(parses, 1);
    assert.equal(seen.length, 6);
    for (const { json, fields } of seen) {
      assert.deepEqual(json, { trade_no: 'J-1', trade_status: 'PAID' });
      assert.equal(json, fields, 'the same parse');
    }
    assert.equal(health.get('nonJsonBodies'), 0);
  });

  it('httpCallback with readBody: a hook asking a form body for json() twice counts it once and the callback succeeds', async () => {
    const seen: Array<{ json: unknown; fields: CallbackFields }> = [];
    const server: Server = createServer(
      httpCallback((_req, res) => res.end('success'), {
        flows,
        readBody: true,
        outcome: (request, fields) => {
          seen.push({ json: request.json(), fields }, { json: request.json(), fields });
          return fields?.trade_status === 'TRADE_SUCCESS' ? 'succeeded' : undefined;
        },
      }),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    try {
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/notify`;
      const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: FORM });
      assert.equal(response.status, 200);
      assert.equal(await response.text(), 'success');
      assert.deepEqual(
        seen.map(({ json }) => json),
        [undefined, undefined],
      );
      assert.equal(health.get('nonJsonBodies'), 1);
      assert.equal(health.get('hookErrors'), 0);
      assert.equal(harness.callbacks()[0].attributes['payment.outcome'], 'succeeded');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('httpCallback with readBody: a notification whose connection drops mid-body reaches the handler without a body, and its span ends', async () => {
    let handled!: (body: Buffer | undefined) => void;
    const handlerRan = new Promise<Buffer | undefined>((resolve) => (handled = resolve));
    const server: Server = createServer(
      httpCallback(
        (_req, res, body) => {
          handled(body);
          res.end('success');
        },
        { flows, readBody: true, tradeNo: (_request, fields) => fields?.trade_no as string | undefined },
      ),
    );
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    try {
      const port = (server.address() as { port: number }).port;
      const callbackEnded = harness.whenExported((span) => span.name === 'payment.callback');
      const socket = connect(port, '127.0.0.1');
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      // Headers promise 200 bytes; 20 arrive, then the provider's side drops the connection.
      socket.write(`POST /notify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 200\r\n\r\n${FORM.slice(0, 20)}`);
      await new Promise<void>((resolve) => server.once('request', () => setImmediate(resolve)));
      socket.destroy();
      assert.equal(await handlerRan, undefined, 'a part of a body is not handed over as the body');
      const callback = await callbackEnded;
      assert.equal(callback.attributes['payment.trade_no'], undefined, 'nothing read from a body that never arrived whole');
      assert.equal(health.get('callbackBodiesUnread'), 0, 'a body lost with its connection is no parser missing');
      assert.equal(health.get('nonJsonBodies'), 0);
      assert.equal(health.get('hookErrors'), 0);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
