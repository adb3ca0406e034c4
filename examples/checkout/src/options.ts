import { parseArgs } from 'node:util';

/** The demo's options; every one has a command-line flag (see the README's table). */
export interface DemoOptions {
  /** Scenario names to play; all when empty. */
  scenarios: string[];
  /** A collector or Jaeger/Tempo OTLP/HTTP endpoint that also gets every span. Default: none (embedded receiver only). */
  otlpEndpoint?: string;
  /** Redis URL for the flow store. Default: none (in-memory store). */
  redisUrl?: string;
  /** Seconds from redirect until a flow without callback is stalled. Default 8. */
  stalledAfterSeconds: number;
  /** Shoppers at once. Default 3. */
  concurrency: number;
  /** Bound on each wait (page, span), seconds. Default 30. */
  timeoutSeconds: number;
  /** Chromium binary. Default `/usr/bin/chromium`. */
  chromium: string;
}

export const DEFAULT_OPTIONS: DemoOptions = { scenarios: [], stalledAfterSeconds: 8, concurrency: 3, timeoutSeconds: 30, chromium: '/usr/bin/chromium' };

export const USAGE = `Usage: npm run demo -w examples/checkout -- [options]
  --scenario NAME            play only this scenario (repeatable; default: all)
  --otlp-endpoint URL        also export to this OTLP/HTTP endpoint (default: $OTEL_EXPORTER_OTLP_ENDPOINT, else none)
  --redis-url URL            keep flows in Redis (default: in memory)
  --stalled-after SECONDS    callback deadline (default 8)
  --concurrency N            shoppers at once (default 3)
  --timeout SECONDS          bound on each wait (default 30)
  --chromium PATH            Chromium binary (default /usr/bin/chromium)
  --help`;

/** Parses the command line (and `OTEL_EXPORTER_OTLP_ENDPOINT`); throws with a readable message on a bad flag. */
export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): DemoOptions | 'help' {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      scenario: { type: 'string', multiple: true },
      'otlp-endpoint': { type: 'string' },
      'redis-url': { type: 'string' },
      'stalled-after': { type: 'string' },
      concurrency: { type: 'string' },
      timeout: { type: 'string' },
      chromium: { type: 'string' },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return 'help';
  const otlpEndpoint = values['otlp-endpoint'] ?? (env.OTEL_EXPORTER_OTLP_ENDPOINT || undefined);
  return {
    scenarios: values.scenario ?? [],
    ...(otlpEndpoint ? { otlpEndpoint } : {}),
    ...(values['redis-url'] ? { redisUrl: values['redis-url'] } : {}),
    stalledAfterSeconds: positive('--stalled-after', values['stalled-after'], DEFAULT_OPTIONS.stalledAfterSeconds),
    concurrency: Math.floor(positive('--concurrency', values.concurrency, DEFAULT_OPTIONS.concurrency)),
    timeoutSeconds: positive('--timeout', values.timeout, DEFAULT_OPTIONS.timeoutSeconds),
    chromium: values.chromium ?? DEFAULT_OPTIONS.chromium,
  };
}

function positive(flag: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`${flag} needs a positive number, got "${text}"`);
  return value;
}
