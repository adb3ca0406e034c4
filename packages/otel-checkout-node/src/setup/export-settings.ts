import { getStringFromEnv } from '@opentelemetry/core';
import { MAX_TIMER_MS } from '../flows/option-numbers.js';
import type { HealthCounters } from '../health.js';
import type { NodeTracingOptions } from '../types.js';
import type { ExportQueueSettings } from './bounded-export-processor.js';
import { describe } from './option-checks.js';

/** The package's defaults; an option, else its `OTEL_BSP_*` variable, wins over them. */
export const EXPORT_DEFAULTS: Readonly<ExportQueueSettings> = {
  maxQueueSize: 2048,
  maxExportBatchSize: 512,
  scheduledDelayMillis: 1000,
  exportTimeoutMillis: 10_000,
};

/**
 * The standard variable of each setting and the values it takes: the OpenTelemetry
 * specification's integers from 0 to 2^31 - 1, narrowed where 0 cannot work. A delay of 0 exports
 * at once; a queue or batch of 0 holds nothing; an export timeout of 0, "no limit" in
 * OpenTelemetry's configuration model, is not offered: the package bounds every export, so that a
 * hung collector can neither hold spans nor keep the process alive.
 */
const VARIABLES: Record<keyof ExportQueueSettings, { name: string; min: 0 | 1; unit: string }> = {
  maxQueueSize: { name: 'OTEL_BSP_MAX_QUEUE_SIZE', min: 1, unit: 'spans' },
  maxExportBatchSize: { name: 'OTEL_BSP_MAX_EXPORT_BATCH_SIZE', min: 1, unit: 'spans' },
  scheduledDelayMillis: { name: 'OTEL_BSP_SCHEDULE_DELAY', min: 0, unit: 'ms' },
  exportTimeoutMillis: { name: 'OTEL_BSP_EXPORT_TIMEOUT', min: 1, unit: 'ms' },
};

/**
 * The export processor's queue and batch settings: each option given in code (checked already,
 * see option-checks.ts), else its `OTEL_BSP_*` variable, else the package's default. A variable
 * that is not a whole number in its range is said once, counted in `configProblems` and ignored,
 * as the specification asks. A batch larger than the queue is cut to the queue's size (the
 * specification requires it to be no larger), said and counted too.
 */
export function resolveExportSettings(options: NodeTracingOptions, health: HealthCounters): ExportQueueSettings {
  const settings = { ...EXPORT_DEFAULTS };
  for (const key of Object.keys(VARIABLES) as (keyof ExportQueueSettings)[]) {
    const option = options[key];
    if (option !== undefined) {
      settings[key] = option;
      continue;
    }
    const fromEnv = readVariable(key, health);
    if (fromEnv !== undefined) settings[key] = fromEnv;
  }
  if (settings.maxExportBatchSize > settings.maxQueueSize) {
    health.rejectOption(
      'maxExportBatchSize',
      `the export batch size (${settings.maxExportBatchSize}, option maxExportBatchSize or OTEL_BSP_MAX_EXPORT_BATCH_SIZE) is larger than the queue (${settings.maxQueueSize}); using ${settings.maxQueueSize}`,
    );
    settings.maxExportBatchSize = settings.maxQueueSize;
  }
  return settings;
}

function readVariable(key: keyof ExportQueueSettings, health: HealthCounters): number | undefined {
  const { name, min, unit } = VARIABLES[key];
  // Blank counts as unset, as the specification asks.
  const raw = getStringFromEnv(name)?.trim();
  if (raw === undefined) return undefined;
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (value >= min && value <= MAX_TIMER_MS) return value;
  health.rejectOption(
    name,
    `${name}=${describe(raw)} is not a whole number of ${unit} from ${min} to ${MAX_TIMER_MS}; using the default (${EXPORT_DEFAULTS[key]})`,
  );
  return undefined;
}
