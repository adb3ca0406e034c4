// An application that calls startCheckoutTracing before starting its own OpenTelemetry SDK (the
// wrong order). Run as a child process: its global SDK must not mix with other tests.
import { createRequire } from 'node:module';
import { diag, DiagLogLevel, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type * as CheckoutNode from '../../src/index.js';

async function main(): Promise<void> {
  const warnings: string[] = [];
  diag.setLogger(
    { error: (m) => warnings.push(m), warn: (m) => warnings.push(m), info: () => undefined, debug: () => undefined, verbose: () => undefined },
    DiagLogLevel.WARN,
  );
  const node = createRequire(__filename)('../../src/index.ts') as typeof CheckoutNode;
  const packageExporter = new InMemorySpanExporter();
  const handle = node.startCheckoutTracing({ exporter: packageExporter, instrumentHttp: false, scheduledDelayMillis: 10 });
  const appExporter = new InMemorySpanExporter();
  const sdk = new NodeSDK({
    spanProcessors: [new node.RedactionSpanProcessor(), new SimpleSpanProcessor(appExporter)],
    instrumentations: [],
    autoDetectResources: false,
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  trace.getTracer('app').startSpan('work', {}, ROOT_CONTEXT).end();
  await handle.flush();
  const report = {
    mode: handle.mode,
    configProblems: handle.health().configProblems,
    warnings: warnings.filter((w) => w.includes('@otel-checkout/node')),
    toApp: appExporter.getFinishedSpans().length,
    toPackage: packageExporter.getFinishedSpans().length,
    watchedBeforeShutdown: Object.prototype.hasOwnProperty.call(trace, 'setGlobalTracerProvider'),
    watchedAfterShutdown: false,
  };
  await handle.shutdown();
  report.watchedAfterShutdown = Object.prototype.hasOwnProperty.call(trace, 'setGlobalTracerProvider');
  process.stdout.write(JSON.stringify(report));
  await sdk.shutdown().catch(() => undefined);
}

void main();
