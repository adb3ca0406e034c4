import { getStringFromEnv } from '@opentelemetry/core';
import { OTLPTraceExporter as OtlpJsonTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import type { SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { createOtlpProtobufSender } from '../export/otlp-protobuf-sender.js';
import type { HealthCounters } from '../health.js';
import type { NodeTracingOptions, OtlpProtocol } from '../types.js';
import { BoundedExportProcessor } from './bounded-export-processor.js';
import type { ExportQueueSettings } from './bounded-export-processor.js';
import { EncodingExportProcessor } from './encoding-export-processor.js';

/**
 * The protocol to use: the option, else the standard environment variables, else protobuf.
 * An unknown value (gRPC is not bundled) falls back to protobuf with a warning.
 */
export function resolveProtocol(option: OtlpProtocol | undefined, health: HealthCounters): OtlpProtocol {
  const raw = option ?? getStringFromEnv('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? getStringFromEnv('OTEL_EXPORTER_OTLP_PROTOCOL');
  if (raw === undefined || raw === 'http/protobuf') return 'http/protobuf';
  if (raw === 'http/json') return 'http/json';
  health.warnOnce('otlp-protocol', `OTLP protocol "${raw}" is not supported here; using http/protobuf`);
  return 'http/protobuf';
}

/** The processor that queues, batches and exports spans, and counts what it could not. */
export type ExportingProcessor = SpanProcessor & { forceFlush(): Promise<void>; abandonPending(): void };

/**
 * The exporting processor. Endpoint and headers left unset here are read by the transport
 * itself from `OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT` / `_HEADERS`. Protobuf (the default) is
 * encoded by the package as each span ends; JSON goes through OpenTelemetry's exporter, and
 * an application's own exporter is used as it is, both behind the SDK's batch processor.
 */
export function buildExportProcessor(options: NodeTracingOptions, settings: ExportQueueSettings, health: HealthCounters): ExportingProcessor {
  if (options.exporter) return new BoundedExportProcessor(options.exporter, health, settings);
  const config = {
    ...(options.endpoint !== undefined ? { url: options.endpoint } : {}),
    ...(options.headers !== undefined ? { headers: options.headers } : {}),
    timeoutMillis: settings.exportTimeoutMillis,
  };
  return resolveProtocol(options.protocol, health) === 'http/json'
    ? new BoundedExportProcessor(new OtlpJsonTraceExporter(config), health, settings)
    : new EncodingExportProcessor(createOtlpProtobufSender(config), health, settings);
}
