/** Counts the redactions made while one value (or one span) is processed. */
export interface RedactionCounter {
  count: number;
}
