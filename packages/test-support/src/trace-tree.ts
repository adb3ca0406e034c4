// Received spans arranged as trees: grouped by trace id, each span under its parent, with
// roots (no parent id) and orphans (a parent id that no received span has) kept apart.
import { SpanNotFoundError } from './errors.js';
import { describeSpan, durationMs } from './otlp/describe.js';
import { describeQuery, toPredicate } from './span-query.js';
import type { ReceivedSpan, SpanQuery } from './types.js';

export interface SpanNode {
  readonly span: ReceivedSpan;
  /** Undefined for roots and orphans. */
  readonly parent: SpanNode | undefined;
  /** Sorted by start time. */
  readonly children: readonly SpanNode[];
  /** 0 for roots and orphans. */
  readonly depth: number;
}

export interface FormatTreeOptions {
  /** Attribute keys to print after each span. Default: none. */
  attributes?: readonly string[];
}

interface MutableNode {
  span: ReceivedSpan;
  parent: MutableNode | undefined;
  children: MutableNode[];
  depth: number;
}

const byStart = (a: { span: ReceivedSpan }, b: { span: ReceivedSpan }): number =>
  a.span.startTimeUnixNano < b.span.startTimeUnixNano ? -1 : a.span.startTimeUnixNano > b.span.startTimeUnixNano ? 1 : 0;

/** One trace: its spans as nodes, roots, orphans and lookups. */
export class TraceTree {
  /** Every node, sorted by start time. */
  readonly nodes: readonly SpanNode[];
  /** Nodes without a parent span id. */
  readonly roots: readonly SpanNode[];
  /** Nodes whose parent span id is not among the received spans of this trace. */
  readonly orphans: readonly SpanNode[];
  /** Later copies of a span id already seen (an exporter retry, for instance); not in the tree. */
  readonly duplicates: readonly ReceivedSpan[];
  readonly #bySpanId: ReadonlyMap<string, SpanNode>;

  constructor(
    readonly traceId: string,
    spans: readonly ReceivedSpan[],
  ) {
    const bySpanId = new Map<string, MutableNode>();
    const duplicates: ReceivedSpan[] = [];
    for (const span of spans) {
      if (bySpanId.has(span.spanId)) duplicates.push(span);
      else bySpanId.set(span.spanId, { span, parent: undefined, children: [], depth: 0 });
    }
    const nodes = [...bySpanId.values()].sort(byStart);
    const roots: MutableNode[] = [];
    const orphans: MutableNode[] = [];
    for (const node of nodes) {
      const parentId = node.span.parentSpanId;
      const parent = parentId === '' ? undefined : bySpanId.get(parentId);
      if (parentId === '') roots.push(node);
      else if (parent === undefined || parent === node) orphans.push(node);
      else {
        node.parent = parent;
        parent.children.push(node);
      }
    }
    // Malformed input can chain spans into a cycle that no root reaches; cut each cycle at its
    // earliest span and report that span as an orphan, so every span appears exactly once.
    const reached = new Set<MutableNode>();
    const mark = (node: MutableNode, depth: number): void => {
      reached.add(node);
      node.depth = depth;
      node.children.sort(byStart);
      for (const child of node.children) mark(child, depth + 1);
    };
    for (const node of [...roots, ...orphans]) mark(node, 0);
    for (const node of nodes) {
      if (reached.has(node)) continue;
      const parent = node.parent!;
      parent.children.splice(parent.children.indexOf(node), 1);
      node.parent = undefined;
      orphans.push(node);
      mark(node, 0);
    }
    orphans.sort(byStart);
    this.nodes = nodes;
    this.roots = roots;
    this.orphans = orphans;
    this.duplicates = duplicates;
    this.#bySpanId = bySpanId;
  }

  /** The node of a span id, if that span was received. */
  node(spanId: string): SpanNode | undefined {
    return this.#bySpanId.get(spanId);
  }

  /** The earliest-starting span matching the query. */
  find(query: SpanQuery): SpanNode | undefined {
    const predicate = toPredicate(query);
    return this.nodes.find((node) => predicate(node.span));
  }

  findAll(query: SpanQuery): SpanNode[] {
    const predicate = toPredicate(query);
    return this.nodes.filter((node) => predicate(node.span));
  }

  /** Like find, but throws a SpanNotFoundError showing the whole tree. */
  get(query: SpanQuery): SpanNode {
    const node = this.find(query);
    if (node === undefined) throw new SpanNotFoundError(`no span ${describeQuery(query)} in\n${formatTree(this)}`);
    return node;
  }

  /** Direct children of a node, optionally only those matching a query. */
  children(node: SpanNode, query?: SpanQuery): SpanNode[] {
    const predicate = query === undefined ? () => true : toPredicate(query);
    return node.children.filter((child) => predicate(child.span));
  }

  /** Every node below `node`, depth first in start-time order. */
  descendants(node: SpanNode): SpanNode[] {
    const result: SpanNode[] = [];
    const visit = (current: SpanNode): void => {
      for (const child of current.children) {
        result.push(child);
        visit(child);
      }
    };
    visit(node);
    return result;
  }

  /** Parent, grandparent, … up to the root or orphan at the top. */
  ancestors(node: SpanNode): SpanNode[] {
    const result: SpanNode[] = [];
    for (let current = node.parent; current !== undefined; current = current.parent) result.push(current);
    return result;
  }

  /** Depth-first walk from every root, then from every orphan. */
  walk(visit: (node: SpanNode) => void): void {
    const step = (node: SpanNode): void => {
      visit(node);
      for (const child of node.children) step(child);
    };
    for (const top of [...this.roots, ...this.orphans]) step(top);
  }
}

/** Every received trace, in the order their earliest span started. */
export class TraceForest {
  readonly trees: readonly TraceTree[];

  constructor(spans: readonly ReceivedSpan[]) {
    const byTrace = new Map<string, ReceivedSpan[]>();
    for (const span of spans) {
      const list = byTrace.get(span.traceId);
      if (list) list.push(span);
      else byTrace.set(span.traceId, [span]);
    }
    this.trees = [...byTrace.entries()]
      .map(([traceId, traceSpans]) => new TraceTree(traceId, traceSpans))
      .sort((a, b) => byStart(a.nodes[0], b.nodes[0]));
  }

  tree(traceId: string): TraceTree | undefined {
    return this.trees.find((tree) => tree.traceId === traceId);
  }

  /** The tree holding the earliest span that matches the query. */
  treeOf(query: SpanQuery): TraceTree | undefined {
    const node = this.find(query);
    return node === undefined ? undefined : this.tree(node.span.traceId);
  }

  find(query: SpanQuery): SpanNode | undefined {
    return this.findAll(query)[0];
  }

  findAll(query: SpanQuery): SpanNode[] {
    return this.trees.flatMap((tree) => tree.findAll(query)).sort(byStart);
  }

  /** Like find, but throws a SpanNotFoundError showing every tree. */
  get(query: SpanQuery): SpanNode {
    const node = this.find(query);
    if (node === undefined) throw new SpanNotFoundError(`no span ${describeQuery(query)} in\n${formatTree(this)}`);
    return node;
  }

  /** Orphans of every trace. */
  get orphans(): SpanNode[] {
    return this.trees.flatMap((tree) => tree.orphans);
  }
}

/** Groups spans by trace id and links each span to its parent. */
export function buildTraceTrees(spans: readonly ReceivedSpan[]): TraceForest {
  return new TraceForest(spans);
}

function formatNode(node: SpanNode, options: FormatTreeOptions, prefix: string, isLast: boolean, top: boolean, lines: string[]): void {
  const branch = top ? '' : isLast ? '└── ' : '├── ';
  lines.push(`${prefix}${branch}${describeSpan(node.span, options.attributes)} ${durationMs(node.span).toFixed(3)}ms`);
  const childPrefix = top ? prefix : `${prefix}${isLast ? '    ' : '│   '}`;
  node.children.forEach((child, index) => formatNode(child, options, childPrefix, index === node.children.length - 1, false, lines));
}

/** A readable drawing of one trace or all of them, for assertion messages. */
export function formatTree(input: TraceTree | TraceForest | readonly ReceivedSpan[], options: FormatTreeOptions = {}): string {
  const trees = input instanceof TraceTree ? [input] : input instanceof TraceForest ? input.trees : buildTraceTrees(input).trees;
  if (trees.length === 0) return '(no spans)';
  const lines: string[] = [];
  for (const tree of trees) {
    lines.push(`trace ${tree.traceId}: ${tree.nodes.length} span(s), ${tree.roots.length} root(s), ${tree.orphans.length} orphan(s)`);
    for (const root of tree.roots) formatNode(root, options, '  ', true, true, lines);
    if (tree.orphans.length > 0) {
      lines.push('  orphans (parent span not received):');
      for (const orphan of tree.orphans) formatNode(orphan, options, '    ', true, true, lines);
    }
    if (tree.duplicates.length > 0) lines.push(`  duplicates ignored: ${tree.duplicates.map((span) => span.spanId).join(', ')}`);
  }
  return lines.join('\n');
}
