// Errors thrown by the test helpers; one base class so a test can catch them all.

export class TestSupportError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A request body that is not a valid OTLP ExportTraceServiceRequest. */
export class OtlpDecodeError extends TestSupportError {}

/** `waitForSpans` gave up; the message lists every span that did arrive. */
export class SpanWaitTimeoutError extends TestSupportError {}

/** The receiver closed while a test was still waiting for spans. */
export class ReceiverClosedError extends TestSupportError {}

/** A trace-tree lookup found no span matching the query; the message shows the tree. */
export class SpanNotFoundError extends TestSupportError {}
