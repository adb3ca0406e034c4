import { diag } from '@opentelemetry/api';
import { createOtlpNetworkExportDelegate, OTLPExporterBase } from '@opentelemetry/otlp-exporter-base';
import type { OTLPExporterNodeConfigBase } from '@opentelemetry/otlp-exporter-base';
import { convertLegacyHttpOptions, createOtlpHttpExporterMetrics } from '@opentelemetry/otlp-exporter-base/node-http';
import { JsonTraceSerializer, ProtobufTraceSerializer, TraceExporterMetricsHelper } from '@opentelemetry/otlp-transformer';
import type { IExportTraceServiceResponse, ISerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { AbortableHttpTransport } from './otlp-http-transport.js';
import { encodeTraceRequest } from './trace-request-encoder.js';

const protobuf: ISerializer<ReadableSpan[], IExportTraceServiceResponse> = {
  serializeRequest: (spans: ReadableSpan[]): Uint8Array => encodeTraceRequest(spans),
  deserializeResponse: loggableResponse((data) => ProtobufTraceSerializer.deserializeResponse(data)),
};

const json: ISerializer<ReadableSpan[], IExportTraceServiceResponse> = {
  serializeRequest: (spans: ReadableSpan[]) => JsonTraceSerializer.serializeRequest(spans),
  // Parsed here: OpenTelemetry's JSON serializer logs the parser's message, which quotes the body.
  deserializeResponse: loggableResponse((data) => (data.length === 0 ? {} : (JSON.parse(new TextDecoder().decode(data)) as IExportTraceServiceResponse))),
};

const ENCODINGS = {
  protobuf: { serializer: protobuf, contentType: 'application/x-protobuf' },
  json: { serializer: json, contentType: 'application/json' },
} as const;

/**
 * The collector's answer to an accepted export, as OpenTelemetry's export delegate logs it: an
 * answer it cannot read is logged by it with the raw body, and a partial success with its
 * `errorMessage`, which may quote what the spans held. Here neither reaches the log as it came.
 */
function loggableResponse(deserialize: (data: Uint8Array) => IExportTraceServiceResponse): (data: Uint8Array) => IExportTraceServiceResponse {
  return (data) => {
    let response: IExportTraceServiceResponse;
    try {
      response = deserialize(data);
    } catch {
      diag.warn(`@otel-checkout/node: the collector accepted the export but its answer (${data.length} bytes, not logged) is not an OTLP response`);
      return {};
    }
    const message: unknown = response?.partialSuccess?.errorMessage;
    if (typeof message !== 'string' || message.length === 0) return response;
    return { ...response, partialSuccess: { ...response.partialSuccess, errorMessage: `message of ${message.length} characters, not logged` } };
  };
}

/** An exporter whose exports under way can be given up (a shutdown that ran out of time). */
export interface AbandonableExporter extends SpanExporter {
  /** Ends the exports under way and fails every later one at once, so nothing of the exporter keeps the process alive. */
  abandon(): void;
}

/**
 * The OTLP/HTTP trace exporter: OpenTelemetry's configuration (endpoint, headers,
 * compression, timeout, agent, the `OTEL_EXPORTER_OTLP_*` variables) and export delegate
 * (concurrency bound, partial-success handling), with the package's transport, which a
 * shutdown that gave up can stop (see otlp-http-transport.ts). Protobuf is written by the
 * package's encoder (same bytes as OpenTelemetry's serializer, less than half its CPU per span),
 * JSON by OpenTelemetry's serializer.
 */
export class OtlpHttpTraceExporter extends OTLPExporterBase<ReadableSpan[]> implements AbandonableExporter {
  private readonly transport: AbortableHttpTransport;

  constructor(config: OTLPExporterNodeConfigBase, encoding: keyof typeof ENCODINGS) {
    const { serializer, contentType } = ENCODINGS[encoding];
    const options = convertLegacyHttpOptions(config, 'TRACES', 'v1/traces', { 'Content-Type': contentType });
    const transport = new AbortableHttpTransport(options);
    super(
      createOtlpNetworkExportDelegate(
        options,
        serializer,
        createOtlpHttpExporterMetrics('otlp_http_span_exporter', TraceExporterMetricsHelper, options.url, undefined),
        transport,
      ),
    );
    this.transport = transport;
  }

  abandon(): void {
    this.transport.abort();
  }
}
