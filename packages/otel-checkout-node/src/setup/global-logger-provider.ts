import { logs } from '@opentelemetry/api-logs';

/**
 * Runs `start` (the NodeSDK's start) and gives back the global LoggerProvider if `start` took
 * it. The NodeSDK registers a LoggerProvider whenever it is given `logRecordProcessors`, even
 * none: this package exports no logs, and that empty provider would keep an application's own
 * LoggerProvider, registered later, from being registered at all (its logs going nowhere), and
 * after a restart hand out loggers of a provider already shut down. One the application had
 * registered before is left as it is.
 */
export function startWithoutGlobalLoggerProvider(start: () => void): void {
  const before = logs.getLoggerProvider();
  start();
  if (logs.getLoggerProvider() !== before) logs.disable();
}
