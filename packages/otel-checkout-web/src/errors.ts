/** Base of every error this package creates, so callers can tell them from their own. */
export class CheckoutTracingError extends Error {
  constructor(message: string) {
    super(message);
    // A literal, not `new.target.name`: minifiers rename classes, and callers compare names.
    this.name = 'CheckoutTracingError';
  }
}

/** A public function was called with an argument it cannot use (handed back as a rejected promise, never thrown at the page). */
export class InvalidArgumentError extends CheckoutTracingError {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidArgumentError';
  }
}
