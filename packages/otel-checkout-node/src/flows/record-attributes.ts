import type { Attributes } from '@opentelemetry/api';
import { canaryAttributes } from '@otel-checkout/core';
import type { CanaryCohort } from '@otel-checkout/core';
import { ATTR_PAYMENT_METHOD } from '@otel-checkout/semantic-conventions';
import type { FlowRecord } from '../flow-store/types.js';
import { copyAttributes } from '../payments/attributes.js';

/**
 * What a flow's later spans (its callback, its stalled span) take from the flow store's
 * record: the method, and the release and canary cohort of `payment.create`, so that the span
 * that ends a flow can be counted per release and cohort. Release and cohort are validated
 * again: a shared store's records may come from another process or version.
 */
export function addRecordedFlowAttributes(attributes: Attributes, record: FlowRecord): void {
  if (record.method !== undefined) attributes[ATTR_PAYMENT_METHOD] = record.method;
  if (record.release === undefined && record.cohort === undefined) return;
  copyAttributes(
    attributes,
    canaryAttributes({
      ...(record.release !== undefined ? { release: record.release } : {}),
      ...(record.cohort !== undefined ? { cohort: record.cohort as CanaryCohort } : {}),
    }),
  );
}
