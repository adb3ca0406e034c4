import { getStringFromEnv, parseKeyPairsIntoRecord } from '@opentelemetry/core';
import { HEALTH_CONFIG_PROBLEMS } from '../health-names.js';
import type { HealthCounters } from '../health.js';
import type { NodeTracingOptions } from '../types.js';
import { isHttpUrl } from './option-checks.js';

const TRACES_ENDPOINT = 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT';
const ENDPOINT = 'OTEL_EXPORTER_OTLP_ENDPOINT';
const DEFAULT_URL = 'http://localhost:4318/v1/traces';

/**
 * Checks the `OTEL_EXPORTER_OTLP_*` variables OpenTelemetry's exporter configuration reads for
 * the package's exporter, where it says nothing or the wrong thing about a mistake; each one found
 * is said once and counted in `configProblems`, as the same mistake in an option is. Returns the
 * endpoint variables to hide from that configuration while the exporter is made (see
 * `withVariablesHidden`). Values are never logged: endpoints and headers may carry credentials.
 */
export function checkOtlpVariables(options: NodeTracingOptions, health: HealthCounters): string[] {
  for (const name of ['OTEL_EXPORTER_OTLP_HEADERS', 'OTEL_EXPORTER_OTLP_TRACES_HEADERS']) checkHeaders(name, health);
  return unusableEndpoints(options, health);
}

/**
 * OpenTelemetry leaves out, without a word, each entry of a headers variable it cannot read: not
 * `name=value`, an empty name or value, a broken percent-encoding. Its rules are applied to each
 * entry here (so the same entries are found), and the others are sent as before.
 */
function checkHeaders(name: string, health: HealthCounters): void {
  const raw = getStringFromEnv(name);
  if (raw === undefined) return;
  const entries = raw.split(',');
  const bad: number[] = [];
  entries.forEach((entry, index) => {
    if (entry.trim() !== '' && Object.keys(parseKeyPairsIntoRecord(entry)).length === 0) bad.push(index + 1);
  });
  if (bad.length === 0) return;
  // One line per variable, a count per entry, as for the entries of spanProcessors.
  health.increment(HEALTH_CONFIG_PROBLEMS, bad.length - 1);
  health.rejectOption(
    name,
    `${name}: ${bad.length === 1 ? 'entry' : 'entries'} ${bad.join(', ')} of ${entries.length} ${bad.length === 1 ? 'is' : 'are'} not name=value ` +
      '(a name and a non-empty, percent-encoded value; not logged, as headers may carry credentials); left out, the other headers are sent',
  );
}

/**
 * An endpoint variable that is not an absolute http(s) URL. OpenTelemetry then logs the value
 * (credentials included) with "falling back to undefined" and sends to its default; a value such
 * as `collector:4318` it takes as a URL of the scheme `collector:`, to which every export fails.
 * Such a variable is said once (without its value) and counted, as the `endpoint` option is, and
 * hidden while the exporter is made, so that the exporter goes to what the diagnostic says: the
 * general variable when the traces one is unusable, else the default. An `endpoint` option makes
 * both unused, so a bad one is then hidden without a word.
 */
function unusableEndpoints(options: NodeTracingOptions, health: HealthCounters): string[] {
  const hidden: string[] = [];
  const specific = getStringFromEnv(TRACES_ENDPOINT);
  const general = getStringFromEnv(ENDPOINT);
  const used = options.endpoint === undefined;
  if (specific !== undefined) {
    if (isHttpUrl(specific)) return hidden;
    hidden.push(TRACES_ENDPOINT);
    if (used) {
      const fallback = general !== undefined && isHttpUrl(general) ? `${ENDPOINT} + /v1/traces` : DEFAULT_URL;
      health.rejectOption(TRACES_ENDPOINT, `${TRACES_ENDPOINT} is not an absolute http(s) URL (not logged, as it may carry credentials); using ${fallback}`);
    }
  }
  if (general !== undefined && !isHttpUrl(general)) {
    hidden.push(ENDPOINT);
    if (used) health.rejectOption(ENDPOINT, `${ENDPOINT} is not an absolute http(s) URL (not logged, as it may carry credentials); using ${DEFAULT_URL}`);
  }
  return hidden;
}

/**
 * Runs `make` with the variables `names` unset, then sets them back. For the exporter's
 * configuration, which reads the variables as it is made (synchronously, so nothing else can run
 * in between and see them missing).
 */
export function withVariablesHidden<T>(names: readonly string[], make: () => T): T {
  if (names.length === 0) return make();
  const saved = names.map((name) => [name, process.env[name]] as const);
  for (const name of names) delete process.env[name];
  try {
    return make();
  } finally {
    for (const [name, value] of saved) if (value !== undefined) process.env[name] = value;
  }
}
