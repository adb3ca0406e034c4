// Runs the README's own-SDK snippet as printed (argv[2]: the snippet, written to a file of its
// own), then a payment route that calls a provider, and sends it what an untrusted client may
// send. Run as a child process: the snippet registers a global SDK. Prints what the provider
// received and the setup's health.
import { createRequire } from 'node:module';
import type * as NodeHttp from 'node:http';
import { context, diag, DiagLogLevel, ROOT_CONTEXT } from '@opentelemetry/api';
import { suppressTracing } from '@opentelemetry/core';
import type * as CheckoutNode from '../../src/index.js';

interface Sent {
  tracestate?: string;
  baggage?: string;
}

async function main(): Promise<void> {
  const warnings: string[] = [];
  diag.setLogger(
    { error: (m) => warnings.push(m), warn: (m) => warnings.push(m), info: () => undefined, debug: () => undefined, verbose: () => undefined },
    DiagLogLevel.WARN,
  );
  const load = createRequire(__filename);
  load(process.argv[2]);
  const node = load('../../src/index.ts') as typeof CheckoutNode;
  const http = load('node:http') as typeof NodeHttp;
  const listen = async (server: NodeHttp.Server): Promise<string> => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  };

  const received: Sent[] = [];
  const provider = http.createServer((req, res) => {
    received.push({ tracestate: req.headers.tracestate as string | undefined, baggage: req.headers.baggage as string | undefined });
    res.end('{}');
  });
  const providerUrl = await listen(provider);
  const get = (url: string, headers: Record<string, string> = {}): Promise<void> =>
    new Promise((resolve, reject) => {
      http.get(url, { headers, agent: false }, (response) => response.resume().on('end', resolve)).on('error', reject);
    });
  const handler = node.httpPayments(async (_req: NodeHttp.IncomingMessage, res: NodeHttp.ServerResponse) => {
    await node.payments.create({ tradeNo: 'R-1' }, (flow) => flow.providerCall('charge', (call) => get(`${providerUrl}/charge`, call.inject<Record<string, string>>({}))));
    res.end('ok');
  });
  const app = http.createServer((req, res) => void handler(req, res));
  const appUrl = await listen(app);

  const traceparent = `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01`;
  // Untraced, so that the client's own instrumentation sends the headers as given.
  const send = (headers: Record<string, string>): Promise<void> => context.with(suppressTracing(ROOT_CONTEXT), () => get(`${appUrl}/pay`, headers));
  await send({ traceparent, tracestate: 'good=1,pan=4111111111111111' });
  await send({ traceparent, tracestate: 'authorization=Bearer abc.def,token=xyz,ok=1' });
  await send({ traceparent, baggage: `checkout.release=1.4.0,${'x'.repeat(10_000)}=1` });
  await new Promise<void>((resolve) => app.close(() => resolve()));
  await new Promise<void>((resolve) => provider.close(() => resolve()));

  const health = node.startCheckoutTracing().health();
  process.stdout.write(
    JSON.stringify({
      received,
      health: { malformedTracestate: health.malformedTracestate, oversizeHeaders: health.oversizeHeaders },
      warnings: warnings.filter((w) => w.includes('@otel-checkout/node') && !w.includes('called again')),
    }),
  );
  process.exit(0);
}

void main();
