import { durationMs } from '@otel-checkout/test-support';
import type { ReceivedSpan, SpanNode, TraceTree } from '@otel-checkout/test-support';
import {
  ATTR_CHECKOUT_SDK_NAME,
  ATTR_CHECKOUT_SDK_VERSION,
  ATTR_PAYMENT_ATTEMPT,
  ATTR_PAYMENT_CALLBACK_CORRELATION,
  ATTR_PAYMENT_CALLBACK_DELAY,
  ATTR_PAYMENT_CALLBACK_DUPLICATE,
  ATTR_PAYMENT_CALLBACK_REFUSED,
  ATTR_PAYMENT_CALLBACK_LATE,
  ATTR_PAYMENT_CONTEXT_REJECTED,
  ATTR_PAYMENT_CONTEXT_SOURCE,
  ATTR_PAYMENT_FAILURE_CODE,
  ATTR_PAYMENT_FAILURE_REASON,
  ATTR_PAYMENT_OUTCOME,
  ATTR_PAYMENT_PROVIDER_STATUS,
  ATTR_PAYMENT_STAGE,
  EVENT_PAYMENT_RETRY,
  EVENT_PAYMENT_SDK_ERROR,
  EVENT_PAYMENT_STATUS_UNMAPPED,
  SPAN_NAME_PAYMENT_QUERY,
} from '@otel-checkout/semantic-conventions/incubating';
import { ATTR_ERROR_TYPE } from '@opentelemetry/semantic-conventions';
import { attributeText } from './attribute-text.js';

/** Attributes shown after a span's name, in this order, as `key=value` (short keys). */
const SHOWN: readonly [string, string][] = [
  [ATTR_PAYMENT_OUTCOME, 'outcome'],
  [ATTR_PAYMENT_FAILURE_REASON, 'reason'],
  [ATTR_PAYMENT_FAILURE_CODE, 'code'],
  [ATTR_PAYMENT_PROVIDER_STATUS, 'provider.status'],
  [ATTR_PAYMENT_CONTEXT_SOURCE, 'context.source'],
  [ATTR_PAYMENT_CONTEXT_REJECTED, 'context.rejected'],
  [ATTR_PAYMENT_CALLBACK_CORRELATION, 'correlation'],
  [ATTR_PAYMENT_CALLBACK_DELAY, 'delay_s'],
  [ATTR_PAYMENT_CALLBACK_DUPLICATE, 'duplicate'],
  [ATTR_PAYMENT_CALLBACK_LATE, 'late'],
  [ATTR_PAYMENT_CALLBACK_REFUSED, 'refused'],
  [ATTR_ERROR_TYPE, 'error.type'],
];

/** One line per span: name, kind, stage, the payment attributes that matter, service, duration. */
function describe(span: ReceivedSpan): string {
  const parts = [span.name];
  if (span.kindName !== 'INTERNAL') parts.push(`(${span.kindName})`);
  const stage = span.attributes[ATTR_PAYMENT_STAGE];
  if (stage !== undefined) parts.push(`[${attributeText(stage)}]`);
  for (const [key, short] of SHOWN) {
    const value = span.attributes[key];
    if (value !== undefined) parts.push(`${short}=${typeof value === 'number' ? Number(value.toFixed(3)) : attributeText(value)}`);
  }
  // The first attempt is the usual case; a later one is what the reader should notice.
  const attempt = span.attributes[ATTR_PAYMENT_ATTEMPT];
  if (typeof attempt === 'number' && attempt > 1) parts.push(`attempt=${attempt}`);
  for (const event of [EVENT_PAYMENT_RETRY, EVENT_PAYMENT_STATUS_UNMAPPED]) {
    if (span.events.some((e) => e.name === event)) parts.push(`+event ${event}`);
  }
  // An SDK error names the SDK and its version, as the SDK error metrics and alerts group them.
  for (const e of span.events.filter((e) => e.name === EVENT_PAYMENT_SDK_ERROR)) {
    parts.push(`+event ${e.name} (${attributeText(e.attributes[ATTR_CHECKOUT_SDK_NAME] ?? '?')} ${attributeText(e.attributes[ATTR_CHECKOUT_SDK_VERSION] ?? '?')})`);
  }
  if (span.status.codeName === 'ERROR') parts.push('ERROR');
  parts.push(`<${attributeText(span.resource.attributes['service.name'])}>`, `${durationMs(span).toFixed(0)} ms`);
  return parts.join(' ');
}

/** Consecutive siblings with the same name and outcome (status polling) are drawn once, with a count. */
function collapseRepeats(children: readonly SpanNode[]): [SpanNode, number][] {
  const groups: [SpanNode, number][] = [];
  const key = (n: SpanNode) => `${n.span.name}|${attributeText(n.span.attributes[ATTR_PAYMENT_OUTCOME])}`;
  for (const child of children) {
    const previous = groups[groups.length - 1];
    if (previous !== undefined && child.span.name === SPAN_NAME_PAYMENT_QUERY && key(previous[0]) === key(child)) previous[1] += 1;
    else groups.push([child, 0]);
  }
  return groups;
}

/** Draws a trace as an indented tree, with span links shown under the span that holds them. */
export function drawTree(tree: TraceTree, indent = '  '): string[] {
  const lines = [`${indent}trace ${tree.traceId}`];
  const draw = (node: SpanNode, prefix: string, last: boolean, top: boolean): void => {
    lines.push(`${indent}${prefix}${top ? '' : last ? '└─ ' : '├─ '}${describe(node.span)}`);
    const childPrefix = prefix + (top ? '' : last ? '   ' : '│  ');
    for (const link of node.span.links) {
      lines.push(`${indent}${childPrefix}  ↪ link to trace ${link.traceId} span ${link.spanId} (not a parent)`);
    }
    const groups = collapseRepeats(node.children);
    groups.forEach(([child, repeats], i) => {
      const last = i === groups.length - 1;
      draw(child, childPrefix, last, false);
      if (repeats > 0) lines.push(`${indent}${childPrefix}${last ? '   ' : '│  '}(+${repeats} more ${child.span.name} like it)`);
    });
  };
  for (const root of [...tree.roots, ...tree.orphans]) draw(root, '', true, true);
  return lines;
}

/**
 * The closing line: which trade numbers to search for, and where. Jaeger searches one service at
 * a time: the page's spans are under shop-web, the backend's (callbacks, stalled flows) under
 * shop-api, the services the demo's page and backend name themselves.
 */
export function whereToLook(tradeNos: readonly string[], otlpEndpoint: string | undefined): string {
  const range = tradeNos.length > 1 ? `${tradeNos[0]} … ${tradeNos[tradeNos.length - 1]}` : (tradeNos[0] ?? '');
  const where = otlpEndpoint
    ? `in the trace backend behind ${otlpEndpoint}`
    : 'with --otlp-endpoint http://localhost:4318 to see them in Jaeger or Tempo';
  const jaeger = `Jaeger: service shop-web for the page's spans, shop-api for the backend's, callbacks and stalled flows included, tag payment.trade_no=${tradeNos[0] ?? ''}`;
  return `Where to look: search payment.trade_no = ${range} ${where} (${jaeger}; TraceQL: { span.payment.trade_no = "${tradeNos[0] ?? ''}" }).`;
}
