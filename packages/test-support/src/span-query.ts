// One way to name the span a test is after, shared by the receiver's waits and the trace trees.
import { isDeepStrictEqual } from 'node:util';
import type { SpanPredicate, SpanQuery } from './types.js';

/** The query as a predicate: a name matches exactly, fields must all match, attributes deeply. */
export function toPredicate(query: SpanQuery): SpanPredicate {
  if (typeof query === 'string') return (span) => span.name === query;
  if (typeof query === 'function') return query;
  return (span) =>
    (query.name === undefined || span.name === query.name) &&
    (query.kind === undefined || span.kindName === query.kind) &&
    Object.entries(query.attributes ?? {}).every(
      ([key, value]) => key in span.attributes && isDeepStrictEqual(span.attributes[key], value),
    );
}

/** The query in words, for error messages. */
export function describeQuery(query: SpanQuery): string {
  if (typeof query === 'string') return `named ${JSON.stringify(query)}`;
  if (typeof query === 'function') return `matching ${query.toString().slice(0, 300)}`;
  return `matching ${JSON.stringify(query, (_key, value: unknown) => (typeof value === 'bigint' ? `${value}n` : value))}`;
}
