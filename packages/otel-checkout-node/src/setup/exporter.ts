import { getBooleanFromEnv, getStringFromEnv, getStringListFromEnv } from '@opentelemetry/core';
import type { SpanExporter } from '@opentelemetry/sdk-trace-base';
import { OtlpHttpTraceExporter } from '../export/otlp-http-trace-exporter.js';
import type { HealthCounters } from '../health.js';
import type { NodeTracingOptions, OtlpProtocol } from '../types.js';
import { checkOtlpVariables, withVariablesHidden } from './otlp-env.js';

/**
 * The protocol to use: the option, else the standard environment variables, else protobuf.
 * An unknown value (gRPC is not bundled) falls back to protobuf with a warning.
 */
export function resolveProtocol(option: OtlpProtocol | undefined, health: HealthCounters): OtlpProtocol {
  const raw = option ?? getStringFromEnv('OTEL_EXPORTER_OTLP_TRACES_PROTOCOL') ?? getStringFromEnv('OTEL_EXPORTER_OTLP_PROTOCOL');
  if (raw === undefined || raw === 'http/protobuf') return 'http/protobuf';
  if (raw === 'http/json') return 'http/json';
  health.rejectOption('protocol', `OTLP protocol "${raw}" is not supported here; using http/protobuf`);
  return 'http/protobuf';
}

/**
 * The OTLP/HTTP trace exporter. Endpoint and headers left unset here are read by the
 * exporter itself from `OTEL_EXPORTER_OTLP_(TRACES_)ENDPOINT` / `_HEADERS`. Protobuf goes
 * through the package's own encoder (same bytes, less CPU per span); JSON through OpenTelemetry's.
 * The options were checked before (see option-checks.ts), so an endpoint given here is an http(s) URL.
 */
export function buildExporter(options: NodeTracingOptions, timeoutMillis: number, health: HealthCounters): SpanExporter {
  if (options.exporter) return options.exporter;
  // The NodeSDK would make a console or Zipkin exporter from these; this package sends OTLP/HTTP
  // only, and an operator who asked for another must hear that it was not made.
  for (const name of getStringListFromEnv('OTEL_TRACES_EXPORTER') ?? []) {
    if (name !== 'otlp' && name !== 'none' && name !== 'null') {
      health.rejectOption(
        'OTEL_TRACES_EXPORTER',
        `OTEL_TRACES_EXPORTER "${name.slice(0, 40)}" is not supported here; spans are exported with OTLP/HTTP (give another exporter as the exporter option)`,
      );
    }
  }
  const config = {
    ...(options.endpoint !== undefined ? { url: options.endpoint } : {}),
    ...(options.headers !== undefined ? { headers: options.headers } : {}),
    timeoutMillis,
  };
  const encoding = resolveProtocol(options.protocol, health) === 'http/json' ? 'json' : 'protobuf';
  const unusable = checkOtlpVariables(options, health);
  return withVariablesHidden(unusable, () => new OtlpHttpTraceExporter(config, encoding));
}

/**
 * `OTEL_TRACES_EXPORTER=none`, read as OpenTelemetry's NodeSDK reads it: `none` first in the list
 * (`null` entries ignored) turns tracing off; `none` after another exporter is ignored.
 * An `exporter` given in code wins over the variable, as the NodeSDK's `traceExporter` does.
 */
export function tracesExporterIsNone(options: NodeTracingOptions): boolean {
  if (options.exporter) return false;
  const list = (getStringListFromEnv('OTEL_TRACES_EXPORTER') ?? []).filter((name) => name !== 'null');
  return list[0] === 'none';
}

/** `OTEL_SDK_DISABLED=true`, read as OpenTelemetry's NodeSDK reads it. */
export function sdkDisabledByEnv(): boolean {
  return getBooleanFromEnv('OTEL_SDK_DISABLED');
}
