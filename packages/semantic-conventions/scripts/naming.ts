/**
 * How registered names become TypeScript constant names. Kept apart from rendering so
 * the validator can detect two names that would produce the same constant.
 */

/** `payment.failure.reason` → `PAYMENT_FAILURE_REASON`. */
export function screamingSnake(name: string): string {
  return name.replace(/[.\-\s]+/g, '_').toUpperCase();
}

/** `payment.failure.reason` → `ATTR_PAYMENT_FAILURE_REASON`. */
export function attributeConstant(attributeId: string): string {
  return `ATTR_${screamingSnake(attributeId)}`;
}

/** (`payment.failure.reason`, `provider_error`) → `PAYMENT_FAILURE_REASON_VALUE_PROVIDER_ERROR`. */
export function enumValueConstant(attributeId: string, memberId: string): string {
  return `${screamingSnake(attributeId)}_VALUE_${screamingSnake(memberId)}`;
}

/** `payment.callback.stalled` → `SPAN_NAME_PAYMENT_CALLBACK_STALLED`. */
export function spanNameConstant(spanName: string): string {
  return `SPAN_NAME_${screamingSnake(spanName)}`;
}

/** `payment.flow.duration` → `METRIC_PAYMENT_FLOW_DURATION`. */
export function metricConstant(metricName: string): string {
  return `METRIC_${screamingSnake(metricName)}`;
}

/** `payment.sdk.error` → `EVENT_PAYMENT_SDK_ERROR`. */
export function eventConstant(eventName: string): string {
  return `EVENT_${screamingSnake(eventName)}`;
}
