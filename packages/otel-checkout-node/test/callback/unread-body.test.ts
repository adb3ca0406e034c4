import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { RequestListener } from 'node:http';
import { bodyParser as koaBodyParser } from '@koa/bodyparser';
import express from 'express';
import Fastify from 'fastify';
import Koa from 'koa';
import { listenOnLoopback } from '@otel-checkout/test-support';
import { expressCallback, fastifyCallback, httpCallback, koaCallback } from '../../src/index.js';
import type { Flows, HttpCallbackOptions } from '../../src/index.js';
import type { HealthCounters } from '../../src/health.js';
import { sendRaw } from '../support/raw-http.js';
import { Harness } from './harness.js';
import { captureWarnings } from '../support/capture-warnings.js';

const JSON_HEADERS = { 'content-type': 'application/json' };

interface Served {
  url: string;
  port: number;
  close(): Promise<void>;
}

async function serve(listener: (...args: Parameters<RequestListener>) => unknown): Promise<Served> {
  const started = await listenOnLoopback(createServer((req, res) => void listener(req, res)));
  return { url: started.url, port: started.port, close: () => started.close() };
}

async function post(served: Served, body: string, headers: Record<string, string> = JSON_HEADERS, path = '/notify'): Promise<string> {
  const response = await fetch(served.url + path, { method: 'POST', headers, body });
  assert.equal(response.status, 200, 'the handler answers as without the middleware');
  return response.text();
}

describe('a callback body no parser read', () => {
  const harness = new Harness();
  let flows: Flows;
  let health: HealthCounters;
  let served: Served | undefined;
  let logs: ReturnType<typeof captureWarnings>;

  before(() => harness.install());
  after(() => harness.uninstall());
  beforeEach(() => {
    ({ flows, health } = harness.flows({ store: false }));
    harness.reset();
    logs = captureWarnings();
  });
  afterEach(async () => {
    logs.restore();
    await served?.close();
    served = undefined;
    await flows.shutdown();
  });

  function assertSaidOnce(contentType: string): void {
    const said = logs.warnings.filter((w) => w.includes("did not read a provider callback's body"));
    assert.equal(said.length, 1, `said once: ${JSON.stringify(logs.warnings)}`);
    assert.match(said[0], new RegExp(`content type ${contentType.replace('/', '\\/')}`));
    assert.match(said[0], /bodyParser/);
  }

  /** The token in the body was not found: the callback is uncorrelated, and the body's loss is counted. */
  function assertUnread(count = 1): void {
    const spans = harness.callbacks();
    assert.equal(spans.length, count);
    for (const span of spans) assert.equal(span.attributes['payment.callback.correlation'], 'none');
    assert.equal(health.get('callbackBodiesUnread'), count);
    assert.equal(health.get('callbacksUncorrelated'), count);
    assert.equal(health.get('callbacks'), count);
  }

  it('Express without any parser: a JSON body with the token is counted and said once, naming its content type', async () => {
    const app = express();
    app.post('/notify', expressCallback({ flows }), (_req, res) => void res.send('success'));
    served = await serve(app);
    const flow = harness.createFlow('E-1');
    const body = JSON.stringify({ otc_flow: flows.passback(flow) });
    await post(served, body, { 'content-type': 'application/json; charset=utf-8' });
    await post(served, body);
    assertUnread(2);
    assertSaidOnce('application/json');
  });

  it('Express with express.urlencoded() as its bodyParser: a JSON body is skipped, counted and said', async () => {
    const app = express();
    app.post('/notify', expressCallback({ flows, bodyParser: express.urlencoded({ extended: false }) }), (_req, res) => void res.send('success'));
    served = await serve(app);
    await post(served, JSON.stringify({ otc_flow: flows.passback(harness.createFlow('E-2')) }));
    assertUnread();
    assertSaidOnce('application/json');
  });

  it('Express: a chunked body (Transfer-Encoding, no Content-Length) is a body too', async () => {
    const app = express();
    app.post('/notify', expressCallback({ flows }), (_req, res) => void res.send('success'));
    served = await serve(app);
    const body = JSON.stringify({ otc_flow: flows.passback(harness.createFlow('E-3')) });
    const answer = await sendRaw(served.port, [
      Buffer.from(
        `POST /notify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n` +
          `${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`,
      ),
    ]);
    assert.match(answer.toString('latin1'), /^HTTP\/1\.1 200 /);
    assertUnread();
  });

  it('the same route with a parser for the content type: found, not counted, not said', async () => {
    const app = express();
    app.post('/notify', expressCallback({ flows, bodyParser: express.json() }), (_req, res) => void res.send('success'));
    served = await serve(app);
    const flow = harness.createFlow('E-4');
    await post(served, JSON.stringify({ otc_flow: flows.passback(flow) }));
    // A request without a body (the token in the query) declares none: nothing was missed.
    await post(served, '', {}, `/notify?otc_flow=${flows.passback(flow)}`);
    const [byBody, byQuery] = harness.callbacks();
    assert.equal(byBody.attributes['payment.callback.correlation'], 'token_body');
    assert.equal(byQuery.attributes['payment.callback.correlation'], 'token_query');
    assert.equal(health.get('callbackBodiesUnread'), 0);
    assert.deepEqual(logs.warnings, []);
  });

  it('Express: a parsed body that is empty ({} from a JSON "{}") is a body read, not counted', async () => {
    const app = express();
    app.post('/notify', expressCallback({ flows, bodyParser: express.json() }), (_req, res) => void res.send('success'));
    served = await serve(app);
    await post(served, '{}');
    assert.equal(health.get('callbackBodiesUnread'), 0);
    assert.equal(health.get('callbacks'), 1);
  });

  it('Koa without a parser: counted and said', async () => {
    const app = new Koa();
    const callback = koaCallback({ flows });
    app.use((ctx) => callback(ctx, () => ((ctx.body = 'success'), Promise.resolve())));
    served = await serve(app.callback());
    await post(served, JSON.stringify({ otc_flow: flows.passback(harness.createFlow('K-1')) }));
    assertUnread();
    assertSaidOnce('application/json');
  });

  it('Koa with @koa/bodyparser and a content type it skips: its {} placeholder is no body, counted and said', async () => {
    const app = new Koa();
    const callback = koaCallback({ flows, bodyParser: koaBodyParser() });
    app.use((ctx) => callback(ctx, () => ((ctx.body = 'success'), Promise.resolve())));
    served = await serve(app.callback());
    await post(served, `<notify><otc_flow>${flows.passback(harness.createFlow('K-2'))}</otc_flow></notify>`, { 'content-type': 'text/xml' });
    assertUnread();
    assertSaidOnce('text/xml');
  });

  it('Fastify with a content-type parser that accepts a type without reading it: counted and said', async () => {
    const app = Fastify();
    await app.register(async (scope) => {
      // Registered to stop Fastify's 415 for the provider's content type, without parsing it.
      scope.addContentTypeParser('text/xml', (_request, _payload, done) => done(null));
      await scope.register(fastifyCallback, { flows });
      scope.post('/notify', () => Promise.resolve('success'));
    });
    const url = await app.listen({ port: 0, host: '127.0.0.1' });
    served = { url, port: Number(new URL(url).port), close: () => app.close() };
    await post(served, `<notify><otc_flow>${flows.passback(harness.createFlow('F-1'))}</otc_flow></notify>`, { 'content-type': 'text/xml' });
    assertUnread();
    assertSaidOnce('text/xml');
  });

  it('a content type that is not a media type is not logged as it is', async () => {
    const app = express();
    app.post('/notify', expressCallback({ flows }), (_req, res) => void res.send('success'));
    served = await serve(app);
    await post(served, 'card=4111111111111111', { 'content-type': 'card 4111111111111111' });
    assertUnread();
    assertSaidOnce('not a media type');
    assert.doesNotMatch(logs.warnings.join('\n'), /4111/);
  });

  describe('node:http (httpCallback)', () => {
    async function serveHttp(options: HttpCallbackOptions): Promise<Served> {
      return serve(
        httpCallback((req, res, body) => {
          // The handler reads the body itself when the middleware did not.
          if (body !== undefined) return void res.end(`success ${body.length}`);
          const chunks: Buffer[] = [];
          req.on('data', (chunk: Buffer) => chunks.push(chunk));
          req.on('end', () => res.end(`success ${Buffer.concat(chunks).length}`));
        }, { flows, ...options }),
      );
    }

    it('without readBody the body is the handler\'s by design: not counted, not said', async () => {
      served = await serveHttp({});
      const body = JSON.stringify({ otc_flow: flows.passback(harness.createFlow('H-1')) });
      assert.equal(await post(served, body), `success ${body.length}`, 'the handler reads the whole body');
      assert.equal(harness.callbacks()[0].attributes['payment.callback.correlation'], 'none');
      assert.equal(health.get('callbackBodiesUnread'), 0);
      assert.deepEqual(logs.warnings, []);
    });

    it('with readBody: a body read is searched, not counted', async () => {
      served = await serveHttp({ readBody: true });
      await post(served, JSON.stringify({ otc_flow: flows.passback(harness.createFlow('H-2')) }));
      assert.equal(harness.callbacks()[0].attributes['payment.callback.correlation'], 'token_body');
      assert.equal(health.get('callbackBodiesUnread'), 0);
    });

    it('with readBody: a body over maxBodyBytes is left to the handler, counted and said once naming maxBodyBytes', async () => {
      served = await serveHttp({ readBody: true, maxBodyBytes: 64 });
      const body = JSON.stringify({ otc_flow: flows.passback(harness.createFlow('H-3')), padding: 'x'.repeat(64) });
      assert.equal(await post(served, body), `success ${body.length}`, 'the handler still reads the whole body');
      assert.equal(await post(served, body), `success ${body.length}`);
      assertUnread(2);
      const said = logs.warnings.filter((w) => w.includes('maxBodyBytes'));
      assert.equal(said.length, 1);
      assert.deepEqual(
        logs.warnings.filter((w) => w.includes("did not read a provider callback's body")),
        [],
        'no parser to blame',
      );
    });
  });
});
