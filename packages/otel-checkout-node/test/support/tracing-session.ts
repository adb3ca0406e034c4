import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { startOtlpReceiver } from '@otel-checkout/test-support';
import type { OtlpReceiver } from '@otel-checkout/test-support';
import { startCheckoutTracing } from '../../src/index.js';
import type { NodeTracingHandle, NodeTracingOptions } from '../../src/index.js';
import { fromReadable, fromReceived } from './span-record.js';
import type { SpanRecord } from './span-record.js';

export type Sink = 'memory' | 'protobuf' | 'json';

/** A started `startCheckoutTracing` plus a way to read back what it exported. */
export interface TracingSession {
  readonly handle: NodeTracingHandle;
  readonly sink: Sink;
  /** The OTLP receiver, for wire sinks. */
  readonly receiver: OtlpReceiver | undefined;
  /** Resolves with the first `count` spans matching `predicate`, flushing until they are exported. */
  waitForSpans(predicate: (span: SpanRecord) => boolean, count?: number): Promise<SpanRecord[]>;
  waitForSpan(predicate: (span: SpanRecord) => boolean): Promise<SpanRecord>;
  /** Every span exported so far. */
  spans(): SpanRecord[];
  /** The spans of one trace after a flush. */
  trace(traceId: string): Promise<SpanRecord[]>;
  clear(): void;
  stop(): Promise<void>;
}

// Generous: on a loaded machine the server span can end well after the client saw the answer.
const ATTEMPTS = 200;

export async function startTracingSession(sink: Sink, options: NodeTracingOptions = {}): Promise<TracingSession> {
  const exporter = sink === 'memory' ? new InMemorySpanExporter() : undefined;
  const receiver = sink === 'memory' ? undefined : await startOtlpReceiver();
  const receiverPath = receiver ? new URL(receiver.tracesUrl).pathname : undefined;
  const handle = startCheckoutTracing({
    scheduledDelayMillis: 20,
    // The receiver runs in this process: its own requests must not be traced and exported in turn.
    ...(receiverPath ? { ignoreIncomingRequest: (request) => request.url === receiverPath } : {}),
    serviceName: 'checkout-api',
    serviceVersion: '1.4.0',
    ...options,
    ...(exporter ? { exporter } : { endpoint: receiver!.tracesUrl, protocol: sink === 'json' ? 'http/json' : 'http/protobuf' }),
  });
  const spans = (): SpanRecord[] =>
    exporter ? exporter.getFinishedSpans().map(fromReadable) : receiver!.spans.map(fromReceived);
  const waitForSpans = async (predicate: (span: SpanRecord) => boolean, count = 1): Promise<SpanRecord[]> => {
    for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
      await handle.flush();
      const found = spans().filter(predicate);
      if (found.length >= count) return found.slice(0, count);
      // The server span ends on the response's 'close' event, which may come just after the client saw the answer.
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`expected ${count} matching spans; exported: ${spans().map((s) => `${s.kind} ${s.name}`).join(', ')}`);
  };
  return {
    handle,
    sink,
    receiver,
    waitForSpans,
    waitForSpan: async (predicate) => (await waitForSpans(predicate, 1))[0],
    spans,
    trace: async (traceId) => {
      await handle.flush();
      return spans().filter((span) => span.traceId === traceId);
    },
    clear: () => (exporter ? exporter.reset() : receiver!.clear()),
    stop: async () => {
      await handle.shutdown();
      await receiver?.close();
    },
  };
}
