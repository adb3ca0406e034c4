// Public surface of @otel-checkout/core. Every export is named; keep each section to its owner file.

// --- flow token format (flow-token.ts) ---
export {
  FLOW_TOKEN_VERSION,
  FLOW_TOKEN_MAC_LENGTH,
  FLOW_TOKEN_MAX_KEY_ID_LENGTH,
  encodeBase64Url,
  decodeBase64Url,
  encodeFlowTokenPayload,
  joinFlowToken,
  decodeFlowToken,
  checkFlowTokenAge,
} from './flow-token.js';
export type {
  FlowTokenFields,
  DecodedFlowToken,
  FlowTokenDecodeFailure,
  FlowTokenDecodeResult,
  FlowTokenAgeFailure,
} from './flow-token.js';

// --- W3C traceparent (traceparent.ts) ---
export { formatTraceparent } from './traceparent.js';
export type { TraceparentIds } from './traceparent.js';

// --- canary cohort (cohort.ts) ---
export {
  CANARY_BAGGAGE_KEYS,
  canaryAttributes,
  canaryBaggageEntries,
  cohortOf,
  cohortOptionsProblems,
  fnv1a32,
  readCanaryBaggage,
} from './cohort.js';
export type { CanaryCohort, CohortAssignment, CohortOptions, ReleaseCohort } from './cohort.js';

// --- redaction rules (redaction/*.ts) ---
export { Redactor, createRedactor, redactSpanData } from './redaction/redactor.js';
export { isCardNumber, maskCutDigits } from './redaction/card-numbers.js';
export {
  DEFAULT_EXEMPT_KEYS,
  DEFAULT_SENSITIVE_KEYS,
  DEFAULT_URL_KEYS,
  REDACTED,
  URL_REDACTED,
} from './redaction/constants.js';
export type { RedactableAttributes, RedactableSpan, RedactableValue, RedactionOptions } from './redaction/types.js';

export {};
