import { maskCutDigits } from '@otel-checkout/core';
import type { RedactableAttributes, RedactableSpan } from '@otel-checkout/core';

/**
 * The SDK cuts every string attribute value (of the span, its events and its links) to the
 * span's `attributeValueLengthLimit` as it is set, before any processor sees it, so a card
 * number cut there reaches the redaction rules without its last digits and passes none of
 * their checks. A value exactly at the limit may have been cut; its trailing digits are
 * masked (`maskCutDigits`), except under the exempt keys (a trade number stays searchable).
 */

/**
 * The span's attribute value length limit when it has one: the SDK span (1.x and 2.x) keeps its
 * limits in `_spanLimits`, and this package's own server span does the same.
 */
export function valueLengthLimitOf(span: object): number | undefined {
  const limit = (span as { _spanLimits?: { attributeValueLengthLimit?: unknown } })._spanLimits?.attributeValueLengthLimit;
  // The SDK does not cut at all with no limit, a limit of 0 or a negative one.
  return typeof limit === 'number' && limit > 0 && Number.isFinite(limit) ? limit : undefined;
}

/** Masks the trailing digits of every string value of `span` that is `limit` long; returns how many values changed. */
export function maskCutValues(span: RedactableSpan, limit: number, exemptKeys: ReadonlySet<string>): number {
  let count = maskCutAttributes(span.attributes, limit, exemptKeys);
  if (Array.isArray(span.events)) {
    for (const event of span.events as ReadonlyArray<{ attributes?: RedactableAttributes } | null>) {
      count += maskCutAttributes(event?.attributes, limit, exemptKeys);
    }
  }
  if (Array.isArray(span.links)) {
    for (const link of span.links as ReadonlyArray<{ attributes?: RedactableAttributes } | null>) {
      count += maskCutAttributes(link?.attributes, limit, exemptKeys);
    }
  }
  return count;
}

function maskCutAttributes(attributes: RedactableAttributes | undefined, limit: number, exemptKeys: ReadonlySet<string>): number {
  if (typeof attributes !== 'object' || attributes === null) return 0;
  let count = 0;
  for (const key in attributes) {
    if (!Object.prototype.hasOwnProperty.call(attributes, key) || exemptKeys.has(key)) continue;
    const value = attributes[key];
    if (typeof value === 'string') {
      if (value.length !== limit) continue;
      const masked = maskCutDigits(value);
      if (masked !== value) {
        attributes[key] = masked;
        count++;
      }
    } else if (Array.isArray(value)) {
      let out: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        if (typeof item !== 'string' || item.length !== limit) continue;
        const masked = maskCutDigits(item);
        if (masked === item) continue;
        out ??= value.slice();
        out[i] = masked;
      }
      if (out !== undefined) {
        attributes[key] = out as RedactableAttributes[string];
        count++;
      }
    }
  }
  return count;
}
