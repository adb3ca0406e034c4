import type { AttributeValue, ReceivedSpan } from '../types.js';

/** An attribute value as a short, unambiguous string for assertion messages. */
export function formatValue(value: AttributeValue): string {
  if (typeof value === 'bigint') return `${value}n`;
  if (value instanceof Uint8Array) return `<${Buffer.from(value).toString('hex')}>`;
  if (Array.isArray(value)) return `[${value.map(formatValue).join(', ')}]`;
  if (value !== null && typeof value === 'object') {
    return `{${Object.entries(value)
      .map(([key, item]) => `${key}: ${formatValue(item)}`)
      .join(', ')}}`;
  }
  return JSON.stringify(value);
}

/** Duration in milliseconds with microsecond precision, from nanosecond timestamps. */
export function durationMs(span: ReceivedSpan): number {
  return Number(span.endTimeUnixNano - span.startTimeUnixNano) / 1e6;
}

/** One line naming a span: name, kind, ids, status and, optionally, chosen attributes. */
export function describeSpan(span: ReceivedSpan, attributeKeys: readonly string[] = []): string {
  const parts = [`${span.name} [${span.kindName}]`, `trace=${span.traceId}`, `span=${span.spanId}`];
  parts.push(span.parentSpanId === '' ? 'root' : `parent=${span.parentSpanId}`);
  if (span.status.codeName !== 'UNSET') {
    parts.push(`status=${span.status.codeName}${span.status.message === '' ? '' : ` ${JSON.stringify(span.status.message)}`}`);
  }
  for (const key of attributeKeys) {
    if (key in span.attributes) parts.push(`${key}=${formatValue(span.attributes[key])}`);
  }
  return parts.join(' ');
}
