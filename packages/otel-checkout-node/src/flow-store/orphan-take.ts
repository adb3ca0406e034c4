/**
 * How long a store remembers a take of a trade number it did not know, ms. The put of a flow
 * is never awaited by the payment request, so on a store shared between processes (or one whose
 * client queued the write while reconnecting) the provider's notification can reach another
 * process first. Remembered, that take still ends the flow when its put lands, instead of the
 * flow waiting for a callback that already came and being reported stalled.
 */
export const ORPHAN_TAKE_MS = 10 * 60 * 1000;
