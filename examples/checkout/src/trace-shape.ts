import { buildTraceTrees } from '@otel-checkout/test-support';
import type { ReceivedSpan, SpanNode, TraceTree } from '@otel-checkout/test-support';
import {
  ATTR_CHECKOUT_SDK_NAME,
  ATTR_CHECKOUT_SDK_VERSION,
  ATTR_PAYMENT_ATTEMPT,
  ATTR_PAYMENT_CALLBACK_DUPLICATE,
  ATTR_PAYMENT_CALLBACK_LATE,
  ATTR_PAYMENT_CALLBACK_REFUSED,
  ATTR_PAYMENT_CONTEXT_REJECTED,
  ATTR_PAYMENT_CONTEXT_SOURCE,
  ATTR_PAYMENT_FAILURE_CODE,
  ATTR_PAYMENT_FAILURE_REASON,
  ATTR_PAYMENT_OUTCOME,
  ATTR_PAYMENT_PROVIDER_STATUS,
  ATTR_PAYMENT_STALLED_NOTIFIED,
  ATTR_PAYMENT_TRADE_NO,
  EVENT_PAYMENT_RETRY,
  EVENT_PAYMENT_SDK_ERROR,
  EVENT_PAYMENT_STATUS_UNMAPPED,
  PAYMENT_CONTEXT_REJECTED_VALUE_BAD_SIGNATURE,
  PAYMENT_CONTEXT_SOURCE_VALUE_BACK_FORWARD_CACHE,
  PAYMENT_CONTEXT_SOURCE_VALUE_HANDOFF,
  PAYMENT_CONTEXT_SOURCE_VALUE_RELOAD,
  PAYMENT_FAILURE_REASON_VALUE_PAGE_LOAD_FAILED,
  PAYMENT_FAILURE_REASON_VALUE_UNMAPPED_STATUS,
  PAYMENT_OUTCOME_VALUE_CANCELLED,
  PAYMENT_OUTCOME_VALUE_FAILED,
  PAYMENT_OUTCOME_VALUE_PENDING,
  PAYMENT_OUTCOME_VALUE_STALLED,
  PAYMENT_OUTCOME_VALUE_SUCCEEDED,
  PAYMENT_OUTCOME_VALUE_UNKNOWN,
  SPAN_NAME_PAYMENT_CALLBACK,
  SPAN_NAME_PAYMENT_CALLBACK_STALLED,
  SPAN_NAME_PAYMENT_CHECKOUT,
  SPAN_NAME_PAYMENT_CREATE,
  SPAN_NAME_PAYMENT_PROVIDER,
  SPAN_NAME_PAYMENT_QUERY,
  SPAN_NAME_PAYMENT_REDIRECT,
  SPAN_NAME_PAYMENT_RETURN,
  SPAN_NAME_PAYMENT_SDK,
} from '@otel-checkout/semantic-conventions/incubating';
import { ATTR_ERROR_TYPE, ATTR_HTTP_RESPONSE_STATUS_CODE } from '@opentelemetry/semantic-conventions';
import { attributeText } from './attribute-text.js';
import { PENDING_STATUS } from './bank.js';
import { DEMO_BANK_SDK_ERROR, DEMO_BANK_SDK_NAME, DEMO_BANK_SDK_VERSION, SDK_VERSION_RETIRED } from './page/demo-bank-sdk.js';
import type { Scenario } from './scenarios.js';

const SDK_CALL = `${SPAN_NAME_PAYMENT_SDK} createPayment`;
/** The outcomes with which a flow ends at `payment.create` (the others wait for the callback). */
const FINAL_AT_CREATE: readonly string[] = [PAYMENT_OUTCOME_VALUE_SUCCEEDED, PAYMENT_OUTCOME_VALUE_FAILED, PAYMENT_OUTCOME_VALUE_CANCELLED];
const PROVIDER_CALL = `${SPAN_NAME_PAYMENT_PROVIDER} create_payment`;

/** A span the flow's trace must hold: how many, with which attributes, under which parent. */
interface Expected {
  name: string;
  attributes?: Record<string, unknown>;
  /** How many: exactly this number, or `some` (one or more). Default 1. */
  count?: number | 'some';
  /** The direct parent's name; `null` for the root. */
  parent?: string | null;
  /** The name of some ancestor (server spans may sit in between). */
  ancestor?: string;
  event?: string;
  /** Attributes that `event` must carry. */
  eventAttributes?: Record<string, unknown>;
}

/** What the receiver holds for one checkout. */
export interface FlowTraces {
  /** The flow's trace (the one holding its `payment.create`). */
  readonly tree: TraceTree | undefined;
  /** Traces that a forged return URL started (root `payment.return`, rejected context). */
  readonly forged: readonly TraceTree[];
  /** What is wrong with the shape; empty when it is as expected. */
  readonly problems: readonly string[];
}

/** The spans one scenario's trace must hold. */
export function expectedSpans(scenario: Scenario): Expected[] {
  if (scenario.sdkFault !== undefined) return sdkFailed(scenario);
  if (scenario.bank.refuse) return refusedAtCreate(scenario);
  const outcome = { [ATTR_PAYMENT_OUTCOME]: scenario.outcome, ...(scenario.reason ? { [ATTR_PAYMENT_FAILURE_REASON]: scenario.reason } : {}) };
  if (scenario.shopper === 'back-then-approve') return paidAgain(outcome);
  const expected: Expected[] = [
    { name: SPAN_NAME_PAYMENT_CHECKOUT, parent: null },
    { name: SDK_CALL, parent: SPAN_NAME_PAYMENT_CHECKOUT },
    { name: SPAN_NAME_PAYMENT_CREATE, ancestor: SDK_CALL },
    { name: PROVIDER_CALL, parent: SPAN_NAME_PAYMENT_CREATE },
    { name: SPAN_NAME_PAYMENT_REDIRECT, parent: SPAN_NAME_PAYMENT_CHECKOUT },
  ];
  if (scenario.returns) {
    expected.push(
      { name: SPAN_NAME_PAYMENT_RETURN, parent: SPAN_NAME_PAYMENT_REDIRECT, attributes: { [ATTR_PAYMENT_CONTEXT_SOURCE]: PAYMENT_CONTEXT_SOURCE_VALUE_HANDOFF } },
      // A reload of the return page continues from the same parent, marked as a reload.
      { name: SPAN_NAME_PAYMENT_RETURN, parent: SPAN_NAME_PAYMENT_REDIRECT, attributes: { [ATTR_PAYMENT_CONTEXT_SOURCE]: PAYMENT_CONTEXT_SOURCE_VALUE_RELOAD }, count: scenario.reloadsReturn ? 1 : 0 },
      { name: SPAN_NAME_PAYMENT_QUERY, parent: SPAN_NAME_PAYMENT_RETURN, count: 'some' /* one per poll */ },
    );
  } else if (scenario.shopper === 'back') {
    // Back on the bank page: the browser restores the checkout page, whose flow carries on
    // under the checkout that ended, pending, when the shopper left for the bank.
    expected[0].attributes = { [ATTR_PAYMENT_OUTCOME]: PAYMENT_OUTCOME_VALUE_PENDING };
    expected.push({ name: SPAN_NAME_PAYMENT_RETURN, parent: SPAN_NAME_PAYMENT_CHECKOUT, attributes: { [ATTR_PAYMENT_CONTEXT_SOURCE]: PAYMENT_CONTEXT_SOURCE_VALUE_BACK_FORWARD_CACHE } });
  } else {
    expected[0].attributes = { [ATTR_PAYMENT_OUTCOME]: PAYMENT_OUTCOME_VALUE_FAILED, [ATTR_PAYMENT_FAILURE_REASON]: PAYMENT_FAILURE_REASON_VALUE_PAGE_LOAD_FAILED };
  }
  const stalled = { name: SPAN_NAME_PAYMENT_CALLBACK_STALLED, parent: SPAN_NAME_PAYMENT_CREATE, attributes: { [ATTR_PAYMENT_OUTCOME]: PAYMENT_OUTCOME_VALUE_STALLED } };
  switch (scenario.bank.pageNeverLoads ? 'never' : (scenario.bank.callback ?? 'once')) {
    case 'never':
      expected.push(stalled, { name: SPAN_NAME_PAYMENT_CALLBACK, count: 0 });
      break;
    case 'after-stalled':
      expected.push(stalled, { name: SPAN_NAME_PAYMENT_CALLBACK, parent: SPAN_NAME_PAYMENT_CREATE, attributes: { [ATTR_PAYMENT_CALLBACK_LATE]: true } });
      break;
    case 'pending-only':
      expected.push(
        { name: SPAN_NAME_PAYMENT_CALLBACK, parent: SPAN_NAME_PAYMENT_CREATE, attributes: { [ATTR_PAYMENT_OUTCOME]: PAYMENT_OUTCOME_VALUE_PENDING } },
        { ...stalled, attributes: { ...stalled.attributes, [ATTR_PAYMENT_STALLED_NOTIFIED]: true, [ATTR_PAYMENT_PROVIDER_STATUS]: PENDING_STATUS } },
      );
      break;
    case 'unmapped-first':
      expected.push(
        {
          name: SPAN_NAME_PAYMENT_CALLBACK,
          parent: SPAN_NAME_PAYMENT_CREATE,
          attributes: { [ATTR_PAYMENT_OUTCOME]: PAYMENT_OUTCOME_VALUE_UNKNOWN, [ATTR_PAYMENT_FAILURE_REASON]: PAYMENT_FAILURE_REASON_VALUE_UNMAPPED_STATUS },
          event: EVENT_PAYMENT_STATUS_UNMAPPED,
        },
        { name: SPAN_NAME_PAYMENT_CALLBACK, parent: SPAN_NAME_PAYMENT_CREATE, attributes: outcome },
        { name: SPAN_NAME_PAYMENT_CALLBACK, attributes: { [ATTR_PAYMENT_CALLBACK_DUPLICATE]: true }, count: 0 },
      );
      break;
    case 'refused-first':
      expected.push(
        {
          name: SPAN_NAME_PAYMENT_CALLBACK,
          parent: SPAN_NAME_PAYMENT_CREATE,
          attributes: { [ATTR_PAYMENT_CALLBACK_REFUSED]: true, [ATTR_ERROR_TYPE]: 'charset.unsupported', [ATTR_HTTP_RESPONSE_STATUS_CODE]: 415 },
        },
        { name: SPAN_NAME_PAYMENT_CALLBACK, parent: SPAN_NAME_PAYMENT_CREATE, attributes: outcome },
        { name: SPAN_NAME_PAYMENT_CALLBACK, attributes: { [ATTR_PAYMENT_CALLBACK_DUPLICATE]: true }, count: 0 },
      );
      break;
    case 'pending-first':
      expected.push(
        { name: SPAN_NAME_PAYMENT_CALLBACK, parent: SPAN_NAME_PAYMENT_CREATE, attributes: { [ATTR_PAYMENT_OUTCOME]: PAYMENT_OUTCOME_VALUE_PENDING } },
        { name: SPAN_NAME_PAYMENT_CALLBACK, parent: SPAN_NAME_PAYMENT_CREATE, attributes: outcome },
        { name: SPAN_NAME_PAYMENT_CALLBACK, attributes: { [ATTR_PAYMENT_CALLBACK_DUPLICATE]: true }, count: 0 },
      );
      break;
    case 'twice':
      expected.push(
        { name: SPAN_NAME_PAYMENT_CALLBACK, parent: SPAN_NAME_PAYMENT_CREATE, count: 2 },
        { name: SPAN_NAME_PAYMENT_CALLBACK, attributes: { [ATTR_PAYMENT_CALLBACK_DUPLICATE]: true } },
      );
      break;
    default:
      expected.push({ name: SPAN_NAME_PAYMENT_CALLBACK, parent: SPAN_NAME_PAYMENT_CREATE, attributes: outcome });
  }
  return expected;
}

/**
 * Back from the bank and Pay again: the checkout page, restored from the back-forward cache,
 * continues its flow under a `payment.return` that records the retry, so both attempts (two
 * SDK calls, two payments created, two redirects) are in one trace. The second payment's
 * callback ends the flow; the first, replaced in the flow store, never stalls.
 */
function paidAgain(outcome: Record<string, unknown>): Expected[] {
  return [
    { name: SPAN_NAME_PAYMENT_CHECKOUT, parent: null, attributes: { [ATTR_PAYMENT_OUTCOME]: PAYMENT_OUTCOME_VALUE_PENDING } },
    {
      name: SPAN_NAME_PAYMENT_RETURN,
      parent: SPAN_NAME_PAYMENT_CHECKOUT,
      attributes: { [ATTR_PAYMENT_CONTEXT_SOURCE]: PAYMENT_CONTEXT_SOURCE_VALUE_BACK_FORWARD_CACHE, [ATTR_PAYMENT_ATTEMPT]: 2 },
      event: EVENT_PAYMENT_RETRY,
    },
    { name: SDK_CALL, ancestor: SPAN_NAME_PAYMENT_CHECKOUT, count: 2 },
    { name: SPAN_NAME_PAYMENT_CREATE, ancestor: SDK_CALL, count: 2 },
    { name: PROVIDER_CALL, parent: SPAN_NAME_PAYMENT_CREATE, count: 2 },
    { name: SPAN_NAME_PAYMENT_REDIRECT, ancestor: SPAN_NAME_PAYMENT_CHECKOUT, count: 2 },
    { name: SPAN_NAME_PAYMENT_RETURN, parent: SPAN_NAME_PAYMENT_REDIRECT, attributes: { [ATTR_PAYMENT_CONTEXT_SOURCE]: PAYMENT_CONTEXT_SOURCE_VALUE_HANDOFF } },
    { name: SPAN_NAME_PAYMENT_QUERY, parent: SPAN_NAME_PAYMENT_RETURN, count: 'some' },
    { name: SPAN_NAME_PAYMENT_CALLBACK, parent: SPAN_NAME_PAYMENT_CREATE, attributes: outcome },
    { name: SPAN_NAME_PAYMENT_CALLBACK_STALLED, count: 0 },
  ];
}

/** A payment the bank refused when the shop created it: the flow ends at payment.create. */
function refusedAtCreate(scenario: Scenario): Expected[] {
  const outcome = { [ATTR_PAYMENT_OUTCOME]: scenario.outcome, ...(scenario.reason ? { [ATTR_PAYMENT_FAILURE_REASON]: scenario.reason } : {}) };
  return [
    // The page records the reason the shop's answer gave, as payment.create does.
    { name: SPAN_NAME_PAYMENT_CHECKOUT, parent: null, attributes: outcome },
    // A refusal is the SDK's answer, not its error: no error.type, so the SDK error alerts stay quiet.
    { name: SDK_CALL, parent: SPAN_NAME_PAYMENT_CHECKOUT, attributes: { [ATTR_ERROR_TYPE]: undefined } },
    { name: SPAN_NAME_PAYMENT_CREATE, ancestor: SDK_CALL, attributes: outcome },
    { name: PROVIDER_CALL, parent: SPAN_NAME_PAYMENT_CREATE },
    { name: SPAN_NAME_PAYMENT_REDIRECT, count: 0 },
    { name: SPAN_NAME_PAYMENT_CALLBACK, count: 0 },
    // Its notify URL was minted, but the flow no longer waits: no stalled span, even past the deadline.
    { name: SPAN_NAME_PAYMENT_CALLBACK_STALLED, count: 0 },
  ];
}

/**
 * The bank's SDK failed in the browser before it asked the shop: one browser trace, whose SDK
 * call records the SDK error (what `checkout.sdk.errors` counts, by SDK name and version) and
 * whose checkout ends failed with the page's reason and the bank's code. The backend never
 * heard of the payment: no payment.create, so nothing can stall.
 */
function sdkFailed(scenario: Scenario): Expected[] {
  const outcome = { [ATTR_PAYMENT_OUTCOME]: scenario.outcome, ...(scenario.reason ? { [ATTR_PAYMENT_FAILURE_REASON]: scenario.reason } : {}) };
  return [
    { name: SPAN_NAME_PAYMENT_CHECKOUT, parent: null, attributes: { ...outcome, [ATTR_PAYMENT_FAILURE_CODE]: SDK_VERSION_RETIRED } },
    {
      name: SDK_CALL,
      parent: SPAN_NAME_PAYMENT_CHECKOUT,
      attributes: { [ATTR_ERROR_TYPE]: DEMO_BANK_SDK_ERROR },
      event: EVENT_PAYMENT_SDK_ERROR,
      eventAttributes: { [ATTR_CHECKOUT_SDK_NAME]: DEMO_BANK_SDK_NAME, [ATTR_CHECKOUT_SDK_VERSION]: DEMO_BANK_SDK_VERSION, [ATTR_ERROR_TYPE]: DEMO_BANK_SDK_ERROR },
    },
    { name: SPAN_NAME_PAYMENT_CREATE, count: 0 },
    { name: PROVIDER_CALL, count: 0 },
    { name: SPAN_NAME_PAYMENT_REDIRECT, count: 0 },
    { name: SPAN_NAME_PAYMENT_RETURN, count: 0 },
    { name: SPAN_NAME_PAYMENT_CALLBACK, count: 0 },
    { name: SPAN_NAME_PAYMENT_CALLBACK_STALLED, count: 0 },
  ];
}

/** Finds the checkout's traces among everything received and checks their shape. */
export function checkFlow(spans: readonly ReceivedSpan[], scenario: Scenario, tradeNo: string): FlowTraces {
  const mine = spans.filter((s) => s.attributes[ATTR_PAYMENT_TRADE_NO] === tradeNo);
  const forest = buildTraceTrees(spans.filter((s) => mine.some((m) => m.traceId === s.traceId)));
  // The flow's trace holds its payment.create; a flow whose SDK failed never reached the backend,
  // and its trace is the one of the page's payment.checkout.
  const anchorName = scenario.sdkFault !== undefined ? SPAN_NAME_PAYMENT_CHECKOUT : SPAN_NAME_PAYMENT_CREATE;
  const anchor = mine.find((s) => s.name === anchorName);
  if (anchor === undefined) return { tree: undefined, forged: [], problems: [`no ${anchorName} span for ${tradeNo}`] };
  const tree = forest.tree(anchor.traceId)!;
  const forged = forest.trees.filter((t) => t !== tree && t.roots.some((r) => r.span.name === SPAN_NAME_PAYMENT_RETURN && r.span.attributes[ATTR_PAYMENT_CONTEXT_REJECTED] !== undefined));
  const problems: string[] = [];
  const strays = forest.trees.filter((t) => t !== tree && !forged.includes(t));
  if (strays.length > 0) problems.push(`the checkout is split over ${strays.length + 1} traces`);
  if (tree.orphans.length > 0) problems.push(`spans whose parent never arrived: ${tree.orphans.map((o) => o.span.name).join(', ')}`);
  for (const expected of expectedSpans(scenario)) problems.push(...checkExpected(tree, expected));
  const final = finalOutcome(tree);
  if (final.outcome !== scenario.outcome || final.reason !== scenario.reason) {
    problems.push(`final outcome ${final.outcome}/${final.reason ?? '-'}, expected ${scenario.outcome}/${scenario.reason ?? '-'}`);
  }
  if (scenario.forgeReturnToken) problems.push(...checkForged(forged, anchor));
  else if (forged.length > 0) problems.push('an unexpected trace started from a rejected return token');
  return { tree, forged, problems };
}

function checkExpected(tree: TraceTree, expected: Expected): string[] {
  const label = `${expected.name}${expected.attributes ? ` ${JSON.stringify(expected.attributes)}` : ''}`;
  const nodes = tree.nodes.filter((n) => n.span.name === expected.name && matches(n.span, expected.attributes));
  const want = expected.count ?? 1;
  if (want === 'some' ? nodes.length === 0 : nodes.length !== want) return [`${label}: expected ${want === 'some' ? 'at least 1' : want}, got ${nodes.length}`];
  return nodes.flatMap((node) => {
    const problems: string[] = [];
    if (expected.parent === null && node.span.parentSpanId !== '') problems.push(`${label}: should be the root`);
    if (typeof expected.parent === 'string' && node.parent?.span.name !== expected.parent) {
      problems.push(`${label}: parent is ${node.parent?.span.name ?? 'missing'}, expected ${expected.parent}`);
    }
    if (expected.ancestor !== undefined && !tree.ancestors(node).some((a: SpanNode) => a.span.name === expected.ancestor)) {
      problems.push(`${label}: not under ${expected.ancestor}`);
    }
    if (expected.event !== undefined && !node.span.events.some((e) => e.name === expected.event && matchesAttributes(e.attributes, expected.eventAttributes))) {
      problems.push(`${label}: no ${expected.event} event${expected.eventAttributes ? ` ${JSON.stringify(expected.eventAttributes)}` : ''}`);
    }
    return problems;
  });
}

/** The forged return starts its own trace and only links to the flow's payment.create. */
function checkForged(forged: readonly TraceTree[], create: ReceivedSpan): string[] {
  const root = forged[0]?.roots[0]?.span;
  if (root === undefined) return ['no trace started from the forged return URL'];
  const problems: string[] = [];
  if (root.attributes[ATTR_PAYMENT_CONTEXT_REJECTED] !== PAYMENT_CONTEXT_REJECTED_VALUE_BAD_SIGNATURE) {
    problems.push(`forged return: payment.context.rejected is ${attributeText(root.attributes[ATTR_PAYMENT_CONTEXT_REJECTED])}, expected ${PAYMENT_CONTEXT_REJECTED_VALUE_BAD_SIGNATURE}`);
  }
  if (!root.links.some((l) => l.traceId === create.traceId && l.spanId === create.spanId)) problems.push('forged return: no span link to the flow');
  return problems;
}

function matches(span: ReceivedSpan, attributes: Record<string, unknown> | undefined): boolean {
  return matchesAttributes(span.attributes, attributes);
}

function matchesAttributes(actual: Readonly<Record<string, unknown>>, attributes: Record<string, unknown> | undefined): boolean {
  return Object.entries(attributes ?? {}).every(([key, value]) => actual[key] === value);
}

/**
 * The flow's final outcome as span metrics count it: the first callback that is neither
 * "still pending", with a status the integration does not map, a duplicate, late nor refused, else
 * the stalled span, else a `payment.create` that recorded a final outcome; and in a trace without
 * any `payment.create` (the flow never reached the backend), the failed `payment.checkout`.
 */
export function finalOutcome(tree: TraceTree | undefined): { outcome: string; reason?: string } {
  const spans = tree?.nodes.map((n) => n.span) ?? [];
  const decisive =
    spans.find(
      (s) =>
        s.name === SPAN_NAME_PAYMENT_CALLBACK &&
        s.attributes[ATTR_PAYMENT_OUTCOME] !== PAYMENT_OUTCOME_VALUE_PENDING &&
        s.attributes[ATTR_PAYMENT_FAILURE_REASON] !== PAYMENT_FAILURE_REASON_VALUE_UNMAPPED_STATUS &&
        s.attributes[ATTR_PAYMENT_CALLBACK_DUPLICATE] !== true &&
        s.attributes[ATTR_PAYMENT_CALLBACK_LATE] !== true &&
        s.attributes[ATTR_PAYMENT_CALLBACK_REFUSED] !== true,
    ) ??
    spans.find((s) => s.name === SPAN_NAME_PAYMENT_CALLBACK_STALLED) ??
    spans.find((s) => s.name === SPAN_NAME_PAYMENT_CREATE && FINAL_AT_CREATE.includes(attributeText(s.attributes[ATTR_PAYMENT_OUTCOME]))) ??
    (spans.some((s) => s.name === SPAN_NAME_PAYMENT_CREATE)
      ? undefined
      : spans.find((s) => s.name === SPAN_NAME_PAYMENT_CHECKOUT && s.attributes[ATTR_PAYMENT_OUTCOME] === PAYMENT_OUTCOME_VALUE_FAILED));
  if (decisive === undefined) return { outcome: 'no final outcome yet' };
  const reason = decisive.attributes[ATTR_PAYMENT_FAILURE_REASON];
  return { outcome: attributeText(decisive.attributes[ATTR_PAYMENT_OUTCOME]), ...(reason !== undefined ? { reason: attributeText(reason) } : {}) };
}
