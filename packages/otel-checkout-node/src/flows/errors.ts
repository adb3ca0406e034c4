/** Base class of the errors the flow machinery reports (configuration problems, store failures). */
export class FlowError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The flow token keys are missing or unusable; tokens are then not minted. */
export class FlowTokenKeyError extends FlowError {}

/** A flow store operation failed or did not answer in time. */
export class FlowStoreError extends FlowError {}

/** A flow store operation took longer than its bounded timeout. */
export class FlowStoreTimeoutError extends FlowStoreError {}
