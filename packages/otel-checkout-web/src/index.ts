// Public surface of @otel-checkout/web.
export { startCheckoutTracing } from './start.js';
export { checkout } from './checkout.js';
export { CheckoutTracingError, InvalidArgumentError } from './errors.js';
export type {
  CanaryOptions,
  ChallengeOptions,
  Checkout,
  CheckoutFlow,
  FailureReason,
  FlowDetails,
  PaymentMethod,
  PaymentOutcome,
  PollOptions,
  PropagateTarget,
  RedirectOptions,
  ResumeOptions,
  SdkInfo,
  SdkMethodName,
  WebHealth,
  WebTracingHandle,
  WebTracingOptions,
} from './types.js';
export type { RedactionOptions } from '@otel-checkout/core';
