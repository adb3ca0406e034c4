import type { AttributeValue } from '@otel-checkout/test-support';

/** An attribute value as printed: strings as they are, anything else as JSON (bigints as digits). */
export function attributeText(value: AttributeValue | undefined): string {
  if (typeof value === 'string') return value;
  if (value === undefined) return 'undefined';
  return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? 'undefined';
}
