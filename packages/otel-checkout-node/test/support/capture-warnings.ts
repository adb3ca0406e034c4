import { diag, DiagLogLevel } from '@opentelemetry/api';

/**
 * Records what the package says through `diag` from `level` up (warnings and errors by default)
 * until `restore`, which turns the diagnostic logger off again.
 */
export function captureWarnings(level: DiagLogLevel = DiagLogLevel.WARN): { warnings: string[]; restore: () => void } {
  const warnings: string[] = [];
  const record = (message: string): void => void warnings.push(message);
  const ignore = (): void => undefined;
  diag.setLogger(
    { error: record, warn: record, info: level >= DiagLogLevel.INFO ? record : ignore, debug: ignore, verbose: ignore },
    { logLevel: level, suppressOverrideMessage: true },
  );
  return { warnings, restore: () => diag.disable() };
}
