// One benchmark server, in its own process so instrumentations of different setups never mix.
// argv: <variant> <OTLP traces URL>. Reports its port over IPC, then answers cpu-start/cpu-stop.
import { createRequire } from 'node:module';
import type { Server } from 'node:http';
import type expressModule from 'express';

type Variant = 'bare' | 'default' | 'lean' | 'standard' | 'context' | 'httponly' | 'span';

interface PayBody {
  tradeNo: string;
  provider: string;
  method: string;
  amount: number;
  currency: string;
}

async function setUp(variant: Variant, sink: string): Promise<void> {
  if (variant === 'default' || variant === 'lean') {
    const { startCheckoutTracing } = await import('@otel-checkout/node');
    startCheckoutTracing({ endpoint: sink, serviceName: 'bench', serviceVersion: '1.0.0', instrumentHttp: variant === 'default' });
  } else if (variant === 'context') {
    // Diagnostic floor: the async context propagation every OpenTelemetry setup needs, no spans.
    const { context } = await import('@opentelemetry/api');
    const { AsyncLocalStorageContextManager } = await import('@opentelemetry/context-async-hooks');
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  } else if (variant === 'span') {
    // Diagnostic floor: one span per request made by hand with the plain SDK and exporter, no instrumentation.
    const { NodeSDK } = await import('@opentelemetry/sdk-node');
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
    new NodeSDK({ serviceName: 'bench', traceExporter: new OTLPTraceExporter({ url: sink }), instrumentations: [] }).start();
  } else if (variant === 'httponly') {
    // Diagnostic: the standard setup with instrumentation-http alone (one server span per request, no payment middleware).
    const { NodeSDK } = await import('@opentelemetry/sdk-node');
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
    const { HttpInstrumentation } = await import('@opentelemetry/instrumentation-http');
    new NodeSDK({ serviceName: 'bench', traceExporter: new OTLPTraceExporter({ url: sink }), instrumentations: [new HttpInstrumentation()] }).start();
  } else if (variant === 'standard') {
    // The setup the OpenTelemetry docs describe: NodeSDK, OTLP exporter, http + express instrumentation.
    const { NodeSDK } = await import('@opentelemetry/sdk-node');
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
    const { HttpInstrumentation } = await import('@opentelemetry/instrumentation-http');
    const { ExpressInstrumentation } = await import('@opentelemetry/instrumentation-express');
    new NodeSDK({
      serviceName: 'bench',
      traceExporter: new OTLPTraceExporter({ url: sink }),
      instrumentations: [new HttpInstrumentation(), new ExpressInstrumentation()],
    }).start();
  }
}

async function main(): Promise<void> {
  const variant = process.argv[2] as Variant;
  const sink = process.argv[3];
  await setUp(variant, sink);
  // Required after the SDK started, so the instrumentations can patch them.
  const load = createRequire(__filename);
  const express = load('express') as typeof expressModule;
  const app = express();
  app.use(express.json());
  if (variant === 'default' || variant === 'lean') {
    // The payment middleware on the payment route; the handler itself is the same in every variant.
    const { expressPayments } = await import('@otel-checkout/node');
    app.use(
      '/pay',
      expressPayments({
        extract: (request) => {
          const body = request.json() as Partial<PayBody> | undefined;
          return { tradeNo: body?.tradeNo, provider: body?.provider, method: body?.method, amount: body?.amount, currency: body?.currency };
        },
      }),
    );
  }
  if (variant === 'span') {
    // The least a traced payment route can do: a SERVER span with the request's payment
    // attributes, active for the handler, ended with the status when the response closes.
    const { context, trace, SpanKind } = await import('@opentelemetry/api');
    const conventions = await import('@otel-checkout/semantic-conventions');
    const http = await import('@opentelemetry/semantic-conventions');
    const tracer = trace.getTracer('bench');
    app.use('/pay', (req, res, next) => {
      const body = req.body as PayBody;
      const span = tracer.startSpan('POST', {
        kind: SpanKind.SERVER,
        attributes: {
          [http.ATTR_HTTP_REQUEST_METHOD]: 'POST',
          [http.ATTR_URL_PATH]: '/pay',
          [http.ATTR_URL_SCHEME]: 'http',
          [conventions.ATTR_PAYMENT_TRADE_NO]: body.tradeNo,
          [conventions.ATTR_PAYMENT_PROVIDER]: body.provider,
          [conventions.ATTR_PAYMENT_METHOD]: body.method,
          [conventions.ATTR_PAYMENT_AMOUNT]: body.amount,
          [conventions.ATTR_PAYMENT_CURRENCY]: body.currency,
        },
      });
      res.on('close', () => {
        span.setAttribute(http.ATTR_HTTP_RESPONSE_STATUS_CODE, res.statusCode);
        span.setAttribute(http.ATTR_HTTP_ROUTE, '/pay');
        span.updateName('POST /pay');
        span.end();
      });
      context.with(trace.setSpan(context.active(), span), next);
    });
  }
  if (variant === 'context') {
    const { context, createContextKey } = await import('@opentelemetry/api');
    const key = createContextKey('bench');
    app.use('/pay', (_req, _res, next) => context.with(context.active().setValue(key, 1), next));
  }
  app.post('/pay', (req, res) => {
    const body = req.body as PayBody;
    res.json({ ok: true, tradeNo: body.tradeNo });
  });
  const server: Server = app.listen(0, '127.0.0.1', () => {
    const address = server.address() as { port: number };
    process.send?.({ type: 'ready', port: address.port });
  });
  let cpuStart = process.cpuUsage();
  process.on('message', (message: { type: string }) => {
    if (message.type === 'cpu-start') {
      cpuStart = process.cpuUsage();
      process.send?.({ type: 'cpu-started' });
    } else if (message.type === 'cpu-stop') {
      const used = process.cpuUsage(cpuStart);
      process.send?.({ type: 'cpu', micros: used.user + used.system, userMicros: used.user, systemMicros: used.system });
    } else if (message.type === 'exit') {
      server.close();
      process.exit(0);
    }
  });
}

void main();
