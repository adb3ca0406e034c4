import { PAYMENT_CONTEXT_REJECTED_VALUE_ORIGIN_MISMATCH } from '@otel-checkout/semantic-conventions/incubating';
import type { HandoffRead, HandoffRecord } from '../handoff.js';
import { parseHandoff } from '../handoff.js';

/**
 * The popup/iframe handoff (3-D Secure challenges): the return frame asks its opener or
 * parent for the flow's context; the checkout page answers only frames on allowed origins,
 * and the return frame accepts an answer only from an allowed origin and from the window it
 * asked. Both sides name the exact target origin, so a message never reaches anyone else.
 */
export const HANDOFF_REQUEST = 'otc.handoff.request';
export const HANDOFF_REPLY = 'otc.handoff';

interface Message {
  type?: unknown;
  record?: unknown;
}

/** The window this frame was opened from or embedded in, if any. */
export function handoffPeer(): Window | undefined {
  if (typeof window === 'undefined') return undefined;
  const opener: unknown = window.opener;
  if (typeof opener === 'object' && opener) return opener as Window;
  if (window.parent !== window) return window.parent;
  return undefined;
}

/** Return-frame side: asks `peer`, waits at most `timeoutMillis`. */
export function requestHandoff(peer: Window, origins: readonly string[], timeoutMillis: number): Promise<HandoffRead> {
  return new Promise((resolve) => {
    let rejectedOrigin = false;
    const finish = (result: HandoffRead): void => {
      clearTimeout(timer);
      window.removeEventListener('message', onMessage);
      resolve(result);
    };
    const onMessage = (event: MessageEvent): void => {
      // Optional chaining is enough: every value but null and undefined has no `type` of ours.
      const data = event.data as Message | null | undefined;
      if (data?.type !== HANDOFF_REPLY) return;
      if (!origins.includes(event.origin) || event.source !== peer) {
        rejectedOrigin = true;
        return;
      }
      finish(parseHandoff(data.record, Date.now()));
    };
    const timer = setTimeout(() => finish({ ok: false, reason: rejectedOrigin ? PAYMENT_CONTEXT_REJECTED_VALUE_ORIGIN_MISMATCH : undefined }), timeoutMillis);
    window.addEventListener('message', onMessage);
    for (const origin of origins) {
      try {
        peer.postMessage({ type: HANDOFF_REQUEST }, origin);
      } catch {
        // Not a window after all (the page replaced `window.opener`): nobody is asked.
      }
    }
  });
}

/** Checkout-page side: answers requests from allowed origins with `record()`; returns "stop". */
export function answerHandoff(origins: readonly string[], record: () => HandoffRecord | undefined, onRejected: () => void): () => void {
  if (typeof window === 'undefined') return () => {};
  const onMessage = (event: MessageEvent): void => {
    if ((event.data as Message | null | undefined)?.type !== HANDOFF_REQUEST || event.source === null) return;
    if (!origins.includes(event.origin)) {
      onRejected();
      return;
    }
    const value = record();
    if (value === undefined) return;
    try {
      (event.source as Window).postMessage({ type: HANDOFF_REPLY, record: value }, event.origin);
    } catch {
      // The frame went away in between.
    }
  };
  window.addEventListener('message', onMessage);
  return () => window.removeEventListener('message', onMessage);
}
