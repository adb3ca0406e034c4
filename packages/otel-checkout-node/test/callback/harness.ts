import { context, trace } from '@opentelemetry/api';
import type { Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { createFlows } from '../../src/flows/flows.js';
import type { FlowContext, Flows, FlowsOptions } from '../../src/index.js';
import { HealthCounters } from '../../src/health.js';

export const KEYS = { current: { id: 'k1', secret: 'callback-test-secret-0123456789' } };

/** A tracer provider with an in-memory exporter and an AsyncLocalStorage context manager. */
export class Harness {
  readonly exporter = new InMemorySpanExporter();
  readonly provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(this.exporter)] });
  readonly tracer = this.provider.getTracer('callback-test');
  private readonly contextManager = new AsyncLocalStorageContextManager();

  install(): void {
    this.contextManager.enable();
    context.setGlobalContextManager(this.contextManager);
  }

  uninstall(): void {
    context.disable();
  }

  flows(options: FlowsOptions = {}): { flows: Flows; health: HealthCounters } {
    const health = new HealthCounters();
    const flows = createFlows({ keys: KEYS, ...options }, { tracer: this.tracer, health });
    return { flows, health };
  }

  /** Starts and ends a `payment.create`-like span; returns its context for minting. */
  createFlow(tradeNo: string, extra: Partial<FlowContext> = {}): FlowContext {
    const span = this.tracer.startSpan('payment.create');
    span.end();
    const sc = span.spanContext();
    return { traceId: sc.traceId, spanId: sc.spanId, traceFlags: sc.traceFlags, tradeNo, provider: 'acme', method: 'card', ...extra };
  }

  /** A server span standing in for instrumentation-http's, active around `fn`. */
  withServerSpan<T>(fn: (span: Span) => T): T {
    const span = this.tracer.startSpan('POST');
    return context.with(trace.setSpan(context.active(), span), () => fn(span));
  }

  /** Resolves with the first span matching `predicate` that the exporter receives from now on. */
  whenExported(predicate: (span: ReadableSpan) => boolean): Promise<ReadableSpan> {
    return new Promise((resolve) => {
      const original = this.exporter.export.bind(this.exporter);
      this.exporter.export = (spans, done) => {
        original(spans, done);
        const span = spans.find(predicate);
        if (span === undefined) return;
        this.exporter.export = original;
        resolve(span);
      };
    });
  }

  callbacks(): ReadableSpan[] {
    return this.exporter.getFinishedSpans().filter((s) => s.name === 'payment.callback');
  }

  reset(): void {
    this.exporter.reset();
  }
}
