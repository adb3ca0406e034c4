import { createHmac } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { encodeFlowTokenPayload, joinFlowToken } from '@otel-checkout/core';
import { httpPayments, httpVerifyToken, payments, startCheckoutTracing as startNodeTracing, traceparentMeta } from '@otel-checkout/node';
import type { NodeTracingHandle } from '@otel-checkout/node';
import { startHttpServer, startOtlpReceiver } from '@otel-checkout/test-support';
import type { OtlpReceiver, StartedHttpServer } from '@otel-checkout/test-support';
import { pageBundle } from './bundle.js';

/** The signing key the test backend mints return tokens with. */
export const TOKEN_KEY = { id: 'k1', secret: 'test-secret-0123456789abcdef' };
/** A test card number (valid Luhn, Visa prefix) that must never appear in an exported byte. */
export const TEST_PAN = '4111111111111111';

/**
 * Three origins on 127.0.0.1, as in production: the shop (checkout and return pages), the
 * payment API (a backend that continues the trace and mints the flow token, with the verify
 * handler) and a bank that sends the shopper back. Plus the OTLP receiver every span goes to.
 */
export interface Sites {
  readonly receiver: OtlpReceiver;
  readonly shop: StartedHttpServer;
  readonly api: StartedHttpServer;
  readonly bank: StartedHttpServer;
  readonly backend: NodeTracingHandle;
  /** A token signed like the backend's, from arbitrary fields (wrong secret: forged). */
  mintToken(fields: { traceId: string; spanId: string; issuedAt?: number; secret?: string }): string;
  close(): Promise<void>;
}

function html(body: string, head = ''): string {
  return `<!doctype html><html><head><meta charset="utf-8">${head}<script src="/otc.js"></script></head><body>${body}</body></html>`;
}

function send(res: ServerResponse, status: number, type: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store', ...headers });
  res.end(body);
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (text += chunk));
    req.on('end', () => resolve(text));
    req.on('error', reject);
  });
}

export async function startSites(): Promise<Sites> {
  const receiver = await startOtlpReceiver({ cors: true });
  const bundle = await pageBundle();
  const backend = startNodeTracing({
    serviceName: 'checkout-api',
    endpoint: receiver.tracesUrl,
    protocol: 'http/json',
    instrumentHttp: false,
    scheduledDelayMillis: 20,
    flows: { keys: { current: TOKEN_KEY }, store: false, sweeper: false },
  });
  // Filled in once every server listens: each page needs the others' origins.
  const origins = { shop: '', api: '', bank: '' };

  const shop = await startHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', origins.shop);
    switch (url.pathname) {
      case '/otc.js':
        return send(res, 200, 'text/javascript', bundle);
      case '/checkout.html':
        return send(res, 200, 'text/html', html(`<button id="pay">Pay</button><input id="card" value="${TEST_PAN}"><a id="away" href="/other.html">away</a>`));
      case '/checkout-cacheable.html':
        // The checkout page as most shops serve it: a browser may keep it in its back-forward
        // cache (`no-store` would keep it out) and restore it when the shopper presses Back.
        return send(res, 200, 'text/html', html('<button id="pay">Pay</button>'), { 'cache-control': 'no-cache' });
      case '/return.html':
        return send(res, 200, 'text/html', html('<h1>Thanks</h1>'));
      case '/return-meta.html':
        // A server-rendered return page: the backend verified the token on this request.
        return send(res, 200, 'text/html', html('<h1>Thanks</h1>', traceparentMeta(req.url ?? '/')));
      case '/echo':
        return send(res, 200, 'application/json', JSON.stringify({ traceparent: req.headers.traceparent ?? null, baggage: req.headers.baggage ?? null }));
      case '/public-echo':
        // Readable from any origin by simple requests only: no answer to a preflight allows a header.
        return send(res, 200, 'application/json', JSON.stringify({ traceparent: req.headers.traceparent ?? null }), { 'access-control-allow-origin': '*' });
      case '/other.html':
        return send(res, 200, 'text/html', html('<h1>Elsewhere</h1>'));
      case '/slow.html':
        // Never answers in time: the "bank page never loads" case.
        return;
      default:
        return send(res, 404, 'text/plain', 'not found');
    }
  });
  origins.shop = shop.url;

  const cors = { 'access-control-allow-origin': shop.url, 'access-control-allow-headers': 'content-type, traceparent, baggage, x-app', 'access-control-allow-methods': 'GET, POST' };
  const pay = httpPayments(
    async (req: IncomingMessage, res: ServerResponse) => {
      const body = JSON.parse(await readBody(req)) as { tradeNo: string; returnPath?: string };
      const bankUrl = await payments.create({ tradeNo: body.tradeNo, provider: 'testbank', method: 'online_banking' }, (flow) => {
        const returnUrl = flow.returnUrl(`${origins.shop}${body.returnPath ?? '/return.html'}`);
        return `${origins.bank}/bank?return=${encodeURIComponent(returnUrl)}`;
      });
      send(res, 200, 'application/json', JSON.stringify({ redirect: bankUrl }), cors);
    },
    { extract: () => ({ provider: 'testbank' }) },
  );
  const verify = httpVerifyToken();
  const api = await startHttpServer(async (req, res) => {
    const url = new URL(req.url ?? '/', origins.api);
    if (req.method === 'OPTIONS') return send(res, 204, 'text/plain', '', cors);
    switch (url.pathname) {
      case '/api/pay':
        return pay(req, res);
      case '/api/verify':
        for (const [name, value] of Object.entries(cors)) res.setHeader(name, value);
        return verify(req, res);
      case '/api/status':
        return send(res, 200, 'application/json', JSON.stringify({ status: url.searchParams.get('status') ?? 'succeeded', traceparent: req.headers.traceparent ?? null }), cors);
      case '/api/echo':
        await readBody(req);
        return send(res, 200, 'application/json', JSON.stringify({ traceparent: req.headers.traceparent ?? null, baggage: req.headers.baggage ?? null }), cors);
      default:
        return send(res, 404, 'text/plain', 'not found', cors);
    }
  });
  origins.api = api.url;

  const bank = await startHttpServer((req, res) => {
    const url = new URL(req.url ?? '/', origins.bank);
    const back = url.searchParams.get('return') ?? '';
    switch (url.pathname) {
      case '/bank':
        return send(res, 200, 'text/html', `<!doctype html><html><body><h1>Bank</h1><button id="confirm" onclick="location.href=${JSON.stringify(back).replace(/"/g, '&quot;')}">Confirm</button></body></html>`);
      case '/challenge':
        // A 3-D Secure challenge in a popup: the bank sends the popup back to the shop's return frame.
        return send(res, 200, 'text/html', `<!doctype html><html><body><script>location.href=${JSON.stringify(back)}</script></body></html>`);
      case '/forger': {
        // A page on the bank's origin that plays both sides of the popup/iframe handoff: it asks
        // the shop page framing it for the flow's context, and it feeds a return frame it embeds
        // a context of its choosing. Both must be refused by origin.
        const fake = { type: 'otc.handoff', record: { v: 1, traceId: 'ee'.repeat(16), spanId: 'ff'.repeat(8), flags: 1, at: Date.now(), exp: Date.now() + 60_000, details: {} } };
        const embed = url.searchParams.get('embed');
        return send(
          res,
          200,
          'text/html',
          `<!doctype html><html><body>${embed === null ? '' : `<iframe id="victim" src="${embed.replace(/"/g, '&quot;')}"></iframe>`}<script>
            if (window.parent !== window) window.parent.postMessage({ type: 'otc.handoff.request' }, '*');
            const fake = ${JSON.stringify(fake)};
            setInterval(() => { const f = document.getElementById('victim'); if (f) f.contentWindow.postMessage(fake, '*'); }, 20);
          </script></body></html>`,
        );
      }
      default:
        return send(res, 404, 'text/plain', 'not found');
    }
  });
  origins.bank = bank.url;

  return {
    receiver,
    shop,
    api,
    bank,
    backend,
    mintToken({ traceId, spanId, issuedAt, secret }) {
      const payload = encodeFlowTokenPayload({ traceId, spanId, traceFlags: 1, issuedAt: issuedAt ?? Math.floor(Date.now() / 1000), keyId: TOKEN_KEY.id });
      if (payload === undefined) throw new Error('bad token fields');
      return joinFlowToken(payload, createHmac('sha256', secret ?? TOKEN_KEY.secret).update(payload).digest());
    },
    async close() {
      await backend.shutdown();
      await Promise.all([shop.close(), api.close(), bank.close()]);
      await receiver.close();
    },
  };
}
