// An application that runs its own OpenTelemetry SDK (with the package's RedactionSpanProcessor,
// made without options) and passes startCheckoutTracing options of its own SDK's business. Run
// as a child process: its global SDK must not mix with other tests.
// argv[2]: 'sdk-options' (options that shape an SDK), 'redaction-false', 'applicable', or
// 'failing-export' (no options; the application's exporter refuses every span), or
// 'processor-options' (no options; the application's RedactionSpanProcessor is made with
// unusable ones: a list given as a string, a misspelt name, a switch that is not a boolean).
import { createRequire } from 'node:module';
import { diag, DiagLogLevel, ROOT_CONTEXT, trace } from '@opentelemetry/api';
import { CompositePropagator, ExportResultCode } from '@opentelemetry/core';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { AlwaysOnSampler, InMemorySpanExporter, NoopSpanProcessor, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import type * as CheckoutNode from '../../src/index.js';

/** Rules as an application might mistype them (hence the cast): each one reported, none lost. */
const UNUSABLE_PROCESSOR_OPTIONS = { sensitiveKeys: 'x-mine', sensitivekeys: ['x-other'], cardNumbers: 'no' } as unknown as CheckoutNode.RedactionSpanProcessorOptions;

async function main(): Promise<void> {
  const variant = process.argv[2];
  const warnings: string[] = [];
  diag.setLogger(
    { error: (m) => warnings.push(m), warn: (m) => warnings.push(m), info: () => undefined, debug: () => undefined, verbose: () => undefined },
    DiagLogLevel.WARN,
  );
  const node = createRequire(__filename)('../../src/index.ts') as typeof CheckoutNode;
  const exporter = new InMemorySpanExporter();
  // A collector that refuses everything, for 'failing-export'.
  const refused: SpanExporter = {
    export: (_spans, done) => done({ code: ExportResultCode.FAILED, error: new Error('refused') }),
    shutdown: () => Promise.resolve(),
  };
  const sdk = new NodeSDK({
    spanProcessors: [new node.RedactionSpanProcessor(variant === 'processor-options' ? UNUSABLE_PROCESSOR_OPTIONS : undefined), new SimpleSpanProcessor(variant === 'failing-export' ? refused : exporter)],
    instrumentations: [],
    autoDetectResources: false,
    metricReaders: [],
    logRecordProcessors: [],
  });
  sdk.start();
  const options: CheckoutNode.NodeTracingOptions =
    variant === 'sdk-options'
      ? {
          serviceName: 'checkout-api',
          environment: 'prod',
          resourceAttributes: { team: 'payments' },
          endpoint: 'http://127.0.0.1:9/v1/traces',
          headers: { 'x-tenant': 'shop' },
          protocol: 'http/json',
          exporter: new InMemorySpanExporter(),
          maxQueueSize: 10,
          maxExportBatchSize: 5,
          scheduledDelayMillis: 10,
          exportTimeoutMillis: 100,
          sampler: new AlwaysOnSampler(),
          spanProcessors: [new NoopSpanProcessor()],
          propagator: new CompositePropagator({ propagators: [] }),
          instrumentHttp: false,
          fastifyAutoRegister: false,
          redaction: { sensitiveKeys: ['x-mine'] },
        }
      : variant === 'redaction-false'
        ? { redaction: false }
        : variant === 'failing-export' || variant === 'processor-options'
          ? {}
          : {
            serviceVersion: '1.4.0',
            release: '1.4.0',
            cohort: { salt: 's', percent: 10 },
            baggage: { maxEntries: 4 },
            shutdownTimeoutMillis: 1000,
            flows: { sweeper: false },
          };
  const handle = node.startCheckoutTracing(options);
  const span = trace.getTracer('app').startSpan('work', {}, ROOT_CONTEXT);
  span.setAttributes({ 'x-mine': 'hunter2', password: 'hunter3' });
  span.end();
  process.stdout.write(
    JSON.stringify({
      mode: handle.mode,
      configProblems: handle.health().configProblems,
      exportCounters: [handle.health().spansExported, handle.health().spansDropped, handle.health().exportFailures],
      warnings,
      attributes: exporter.getFinishedSpans().find((s) => s.name === 'work')?.attributes,
    }),
  );
  await handle.shutdown();
  await sdk.shutdown().catch(() => undefined);
}

void main();
