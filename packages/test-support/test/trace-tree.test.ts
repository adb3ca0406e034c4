import assert from 'node:assert/strict';
import { SpanNotFoundError, buildTraceTrees, formatTree } from '../src/index.js';
import type { ReceivedSpan } from '../src/index.js';

const TRACE_A = 'a'.repeat(32);
const TRACE_B = 'b'.repeat(32);

let clock = 1_700_000_000_000_000_000n;

/** A received span with only what the tree cares about filled in; starts one millisecond after the previous one. */
function span(name: string, spanId: string, parentSpanId: string, extra: Partial<ReceivedSpan> = {}): ReceivedSpan {
  clock += 1_000_000n;
  return {
    traceId: TRACE_A,
    spanId: spanId.padStart(16, '0'),
    parentSpanId: parentSpanId === '' ? '' : parentSpanId.padStart(16, '0'),
    traceState: '',
    flags: 1,
    name,
    kind: 1,
    kindName: 'INTERNAL',
    startTimeUnixNano: clock,
    endTimeUnixNano: clock + 2_500_000n,
    attributes: {},
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: { code: 0, codeName: 'UNSET', message: '' },
    resource: { attributes: {}, droppedAttributesCount: 0, schemaUrl: '' },
    scope: { name: 'test', version: '', attributes: {}, schemaUrl: '' },
    encoding: 'json',
    raw: new Uint8Array(0),
    requestIndex: 0,
    ...extra,
  };
}

describe('trace trees', function () {
  // Browser: checkout → sdk → redirect; backend: create (child of sdk's fetch) → provider;
  // a callback whose parent (the create span of another service) was never exported; trace B apart.
  const checkout = span('payment.checkout', '1', '');
  const sdk = span('payment.sdk', '2', '1');
  const create = span('payment.create', '3', '2', { kind: 2, kindName: 'SERVER', attributes: { 'payment.trade_no': 'T-1', 'payment.amount': 100 } });
  const provider = span('payment.provider', '4', '3', { kind: 3, kindName: 'CLIENT', status: { code: 2, codeName: 'ERROR', message: 'declined' } });
  const redirect = span('payment.redirect', '5', '1');
  const callback = span('payment.callback', '6', 'dead', { kind: 2, kindName: 'SERVER', attributes: { 'payment.trade_no': 'T-1' } });
  const callbackDb = span('db.update', '7', '6');
  const other = span('unrelated.root', '8', '', { traceId: TRACE_B });
  // Received out of order, as batches from several processes arrive.
  const received = [callbackDb, provider, other, redirect, create, callback, sdk, checkout];

  it('groups by trace, links parents, and orders children by start time', function () {
    const forest = buildTraceTrees(received);
    assert.deepStrictEqual(
      forest.trees.map((tree) => [tree.traceId, tree.nodes.length]),
      [
        [TRACE_A, 7],
        [TRACE_B, 1],
      ],
    );
    const tree = forest.tree(TRACE_A)!;
    assert.deepStrictEqual(
      tree.roots.map((node) => node.span.name),
      ['payment.checkout'],
    );
    const root = tree.roots[0];
    assert.deepStrictEqual(
      tree.children(root).map((node) => node.span.name),
      ['payment.sdk', 'payment.redirect'],
    );
    assert.equal(tree.get('payment.provider').parent?.span.name, 'payment.create');
    assert.equal(tree.get('payment.provider').depth, 3);
    assert.deepStrictEqual(
      tree.ancestors(tree.get('payment.provider')).map((node) => node.span.name),
      ['payment.create', 'payment.sdk', 'payment.checkout'],
    );
    assert.deepStrictEqual(
      tree.descendants(root).map((node) => node.span.name),
      ['payment.sdk', 'payment.create', 'payment.provider', 'payment.redirect'],
    );
  });

  it('reports spans whose parent was not received as orphans, with their own subtrees', function () {
    const forest = buildTraceTrees(received);
    const tree = forest.tree(TRACE_A)!;
    assert.deepStrictEqual(
      tree.orphans.map((node) => [node.span.name, node.parent, node.depth]),
      [['payment.callback', undefined, 0]],
    );
    assert.deepStrictEqual(
      tree.children(tree.orphans[0]).map((node) => node.span.name),
      ['db.update'],
    );
    assert.deepStrictEqual(
      forest.orphans.map((node) => node.span.name),
      ['payment.callback'],
    );
    assert.deepStrictEqual(forest.tree(TRACE_B)!.orphans, []);
  });

  it('finds spans by name, by fields and attributes, and by predicate', function () {
    const forest = buildTraceTrees(received);
    assert.deepStrictEqual(
      forest.findAll({ attributes: { 'payment.trade_no': 'T-1' } }).map((node) => node.span.name),
      ['payment.create', 'payment.callback'],
    );
    assert.equal(forest.find({ kind: 'CLIENT' })?.span.name, 'payment.provider');
    assert.equal(forest.find({ name: 'payment.create', attributes: { 'payment.amount': 100 } })?.span.spanId, create.spanId);
    assert.equal(forest.find({ name: 'payment.create', attributes: { 'payment.amount': 101 } }), undefined);
    assert.equal(forest.find((candidate) => candidate.status.codeName === 'ERROR')?.span.name, 'payment.provider');
    assert.equal(forest.treeOf('unrelated.root')?.traceId, TRACE_B);
    const tree = forest.tree(TRACE_A)!;
    assert.equal(tree.node(create.spanId)?.span, create);
    assert.deepStrictEqual(
      tree.children(tree.get('payment.checkout'), 'payment.redirect').map((node) => node.span.spanId),
      [redirect.spanId],
    );
  });

  it('walks every node once, roots first, then orphans', function () {
    const tree = buildTraceTrees(received).tree(TRACE_A)!;
    const visited: string[] = [];
    tree.walk((node) => visited.push(`${'  '.repeat(node.depth)}${node.span.name}`));
    assert.deepStrictEqual(visited, [
      'payment.checkout',
      '  payment.sdk',
      '    payment.create',
      '      payment.provider',
      '  payment.redirect',
      'payment.callback',
      '  db.update',
    ]);
  });

  it('throws a SpanNotFoundError that shows the tree', function () {
    const forest = buildTraceTrees(received);
    assert.throws(
      () => forest.get('payment.return'),
      (error: unknown) =>
        error instanceof SpanNotFoundError &&
        error.message.includes('no span named "payment.return"') &&
        error.message.includes('payment.checkout [INTERNAL]'),
    );
  });

  it('formats a readable tree with orphans and chosen attributes', function () {
    const text = formatTree(buildTraceTrees(received).tree(TRACE_A)!, { attributes: ['payment.trade_no'] });
    const lines = text.split('\n').map((line) => line.replace(/ trace=\w+ span=\w+/, '').replace(/ (root|parent=\w+)(?= )/, ''));
    assert.deepStrictEqual(lines, [
      `trace ${TRACE_A}: 7 span(s), 1 root(s), 1 orphan(s)`,
      '  payment.checkout [INTERNAL] 2.500ms',
      '  ├── payment.sdk [INTERNAL] 2.500ms',
      '  │   └── payment.create [SERVER] payment.trade_no="T-1" 2.500ms',
      '  │       └── payment.provider [CLIENT] status=ERROR "declined" 2.500ms',
      '  └── payment.redirect [INTERNAL] 2.500ms',
      '  orphans (parent span not received):',
      '    payment.callback [SERVER] payment.trade_no="T-1" 2.500ms',
      '    └── db.update [INTERNAL] 2.500ms',
    ]);
    assert.match(text, /payment\.callback \[SERVER\] trace=a{32} span=0{15}6 parent=0{12}dead/);
    assert.equal(formatTree([]), '(no spans)');
  });

  it('keeps one copy of a span exported twice and survives parent cycles', function () {
    const looping = [span('a', 'a1', 'a2'), span('b', 'a2', 'a1'), span('dup', 'd1', ''), span('dup again', 'd1', '')];
    const tree = buildTraceTrees(looping).tree(TRACE_A)!;
    assert.deepStrictEqual(
      tree.roots.map((node) => node.span.name),
      ['dup'],
    );
    assert.deepStrictEqual(
      tree.duplicates.map((duplicate) => duplicate.name),
      ['dup again'],
    );
    assert.deepStrictEqual(
      tree.orphans.map((node) => [node.span.name, node.children.map((child) => child.span.name)]),
      [['a', ['b']]],
    );
    const visited: string[] = [];
    tree.walk((node) => visited.push(node.span.name));
    assert.deepStrictEqual(visited, ['dup', 'a', 'b']);
  });
});
