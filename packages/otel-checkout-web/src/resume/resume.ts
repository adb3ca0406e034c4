import { TraceFlags } from '@opentelemetry/api';
import type { Link, SpanContext } from '@opentelemetry/api';
import { checkFlowTokenAge, decodeFlowToken } from '@otel-checkout/core';
import {
  ATTR_PAYMENT_CONTEXT_REJECTED,
  PAYMENT_CONTEXT_REJECTED_VALUE_MALFORMED,
  PAYMENT_CONTEXT_REJECTED_VALUE_MISSING,
  PAYMENT_CONTEXT_REJECTED_VALUE_UNVERIFIED,
  PAYMENT_CONTEXT_SOURCE_VALUE_HANDOFF,
  PAYMENT_CONTEXT_SOURCE_VALUE_META,
  PAYMENT_CONTEXT_SOURCE_VALUE_NONE,
  PAYMENT_CONTEXT_SOURCE_VALUE_POST_MESSAGE,
  PAYMENT_CONTEXT_SOURCE_VALUE_RELOAD,
  PAYMENT_CONTEXT_SOURCE_VALUE_VERIFIED_TOKEN,
} from '@otel-checkout/semantic-conventions/incubating';
import { takeHandoff } from '../handoff.js';
import type { HandoffRecord } from '../handoff.js';
import { parseTraceparent } from '../traceparent.js';
import type { FlowDetails, ResumeOptions } from '../types.js';
import { handoffPeer, requestHandoff } from './message-handoff.js';
import { listOf } from '../options.js';
import { originOf } from '../propagation/url-match.js';
import { takeUrlToken } from './url-token.js';
import { verifyToken } from './verify.js';

/** Where the return page's parent came from, or why there is none. */
export interface ResumeDecision {
  parent: SpanContext | undefined;
  source: string;
  /** Set when no parent was found: the most specific reason a carried context was refused. */
  rejected: string | undefined;
  links: Link[];
  details: FlowDetails;
  /** The attempt a handoff record carried (validated), so the flow's attempts go on counting. */
  attempt?: number;
}

const TOKEN_SKEW_SECONDS = 60;

/**
 * The order of trust on the return page (docs/flow-model.md): the same-tab handoff, then a
 * popup/iframe handoff over postMessage, then the server-rendered meta tag, then the URL
 * token if the backend's verify handler confirms it. A URL token that is not confirmed is
 * only ever a link. The token is removed from the URL whatever the outcome. `fetchFn` is the
 * page's fetch before patching: the verify request is bookkeeping, not checkout traffic.
 */
export async function decideResume(tokenParam: string, fetchFn: typeof fetch, options: ResumeOptions): Promise<ResumeDecision> {
  const timeout = typeof options.timeoutMillis === 'number' && options.timeoutMillis >= 0 ? options.timeoutMillis : 2000;
  const reasons: string[] = [];
  const links: Link[] = [];
  const token = takeUrlToken(tokenParam);
  const decided = (parent: SpanContext | undefined, source: string, details: FlowDetails = {}, rejected?: string): ResumeDecision => ({ parent, source, rejected, links, details });
  const handedOver = (record: HandoffRecord, source: string): ResumeDecision => ({
    ...decided({ traceId: record.traceId, spanId: record.spanId, traceFlags: record.flags, isRemote: true }, source, record.details),
    attempt: record.attempt,
  });

  const handoff = takeHandoff();
  if (handoff.ok) return handedOver(handoff.record, handoff.record.taken === undefined ? PAYMENT_CONTEXT_SOURCE_VALUE_HANDOFF : PAYMENT_CONTEXT_SOURCE_VALUE_RELOAD);
  if (handoff.reason !== undefined) reasons.push(handoff.reason);

  const origins = listOf('messageOrigins', options.messageOrigins, originOf) ?? [];
  const peer = origins.length > 0 && handoffPeer();
  if (peer) {
    const message = await requestHandoff(peer, origins, timeout);
    if (message.ok) return handedOver(message.record, PAYMENT_CONTEXT_SOURCE_VALUE_POST_MESSAGE);
    if (message.reason !== undefined) reasons.push(message.reason);
  }

  let meta: string | null | undefined;
  try {
    meta = document.querySelector('meta[name="traceparent"]')?.getAttribute('content');
  } catch {
    // No document here (not a page).
  }
  if (typeof meta === 'string') {
    const parent = parseTraceparent(meta);
    if (parent !== undefined) return decided(parent, PAYMENT_CONTEXT_SOURCE_VALUE_META);
    reasons.push(PAYMENT_CONTEXT_REJECTED_VALUE_MALFORMED);
  }

  if (token !== undefined) {
    const decoded = decodeFlowToken(token);
    if (!decoded.ok) {
      reasons.push(decoded.reason);
    } else {
      const fields = decoded.token;
      const carried: SpanContext = { traceId: fields.traceId, spanId: fields.spanId, traceFlags: fields.traceFlags & TraceFlags.SAMPLED, isRemote: true };
      const maxAge = typeof options.tokenMaxAgeSeconds === 'number' ? options.tokenMaxAgeSeconds : 1800;
      let reason: string | undefined = checkFlowTokenAge(fields.issuedAt, Math.floor(Date.now() / 1000), maxAge, TOKEN_SKEW_SECONDS);
      if (reason === undefined && typeof options.verifyUrl === 'string') {
        const verified = await verifyToken(fetchFn, options.verifyUrl, tokenParam, token, timeout);
        if (verified.ok && verified.parent.traceId === carried.traceId) return decided(verified.parent, PAYMENT_CONTEXT_SOURCE_VALUE_VERIFIED_TOKEN);
        reason = verified.ok ? PAYMENT_CONTEXT_REJECTED_VALUE_UNVERIFIED : verified.reason;
      }
      reason ??= PAYMENT_CONTEXT_REJECTED_VALUE_UNVERIFIED;
      reasons.push(reason);
      // Someone may have pasted another shopper's token: it can point at that flow, never join it.
      links.push({ context: carried, attributes: { [ATTR_PAYMENT_CONTEXT_REJECTED]: reason } });
    }
  }

  // The last reason is the most specific (every one pushed is a string); none means nothing was carried.
  return decided(undefined, PAYMENT_CONTEXT_SOURCE_VALUE_NONE, {}, reasons[reasons.length - 1] ?? PAYMENT_CONTEXT_REJECTED_VALUE_MISSING);
}
