/**
 * `text` without HTTP's optional whitespace (space, tab) at either end: the only whitespace
 * W3C Trace Context and Baggage allow around a header, its members, keys and values.
 * JavaScript's trim() also strips a no-break space and other Unicode spaces, which would make
 * a header the specifications reject valid. Usually there is nothing to take.
 */
export function trimOptionalWhitespace(text: string): string {
  let start = 0;
  let end = text.length;
  while (start < end && (text[start] === ' ' || text[start] === '\t')) start += 1;
  while (end > start && (text[end - 1] === ' ' || text[end - 1] === '\t')) end -= 1;
  return start === 0 && end === text.length ? text : text.slice(start, end);
}
