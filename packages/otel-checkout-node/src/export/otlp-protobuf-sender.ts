import type { OTLPExporterNodeConfigBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExportDelegate } from '@opentelemetry/otlp-exporter-base/node-http';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { IExportTraceServiceResponse } from '@opentelemetry/otlp-transformer';
import type { BatchExporter } from '../setup/counting-exporter.js';

/** An `ExportTraceServiceRequest` already encoded in protobuf, and how many spans it holds. */
export interface EncodedTraceRequest {
  readonly bytes: Uint8Array;
  readonly spanCount: number;
}

/**
 * Sends encoded trace requests over OTLP/HTTP with OpenTelemetry's own transport: endpoint,
 * headers, compression, retries, timeout and the `OTEL_EXPORTER_OTLP_*` variables behave as
 * in OpenTelemetry's protobuf exporter. Only the encoding is the package's: the requests
 * arrive encoded already, span by span as they ended.
 */
export function createOtlpProtobufSender(config: OTLPExporterNodeConfigBase): BatchExporter<EncodedTraceRequest> {
  return createOtlpHttpExportDelegate<EncodedTraceRequest, IExportTraceServiceResponse>(
    convertLegacyHttpOptions(config, 'TRACES', 'v1/traces', { 'Content-Type': 'application/x-protobuf' }),
    {
      serializeRequest: (request) => request.bytes,
      deserializeResponse: (data) => ProtobufTraceSerializer.deserializeResponse(data),
    },
    'otlp_http_span_exporter',
    { name: 'span', countItems: (request) => request.spanCount },
    undefined,
  );
}
