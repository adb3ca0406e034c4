import { REDACTED, URL_REDACTED } from './constants.js';
import type { RedactionCounter } from './counter.js';

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `client_secret` → `client[-_.]?secret`, so `clientSecret`, `client-secret`, `client.secret` match too. */
function namePattern(name: string): string {
  return name
    .split(/[-_.\s]+/)
    .filter((w) => w.length > 0)
    .map(escapeRegExp)
    .join('[-_.]?');
}

/** Replaces the values of sensitive inline pairs in free text; returns `text` itself when there were none. */
export type InlinePairScrubber = (text: string, counter: RedactionCounter) => string;

/**
 * Finds `name=value`, `name: value`, `"name": "value"` (also JSON escaped inside a string) and
 * `Authorization: Bearer value` in free text, for every sensitive name, and replaces the value
 * with `[REDACTED]`, keeping the quotes and the auth scheme. Built once per configuration;
 * `undefined` when no name is left to look for.
 */
export function inlinePairScrubber(names: readonly string[]): InlinePairScrubber | undefined {
  const alternatives = [...new Set(names.map(namePattern).filter((p) => p.length > 0))].sort((a, b) => b.length - a.length);
  if (alternatives.length === 0) return undefined;
  const pattern = new RegExp(
    // 1: what precedes the name (a non-alphanumeric or the start), 2: the name,
    // 3: the assignment (after the `]` of a form's bracketed name, `card[cvc]=`, which
    // would otherwise keep the name from being found), 4: an auth scheme, 5: the value.
    `(^|[^A-Za-z0-9])(${alternatives.join('|')})(\\]?\\\\?["']?\\s*[:=]\\s*)((?:bearer|basic|digest|token)\\s+)?` +
      `(\\[REDACTED\\]|\\\\?"[^"\\\\]*\\\\?"|'[^']*'|[^\\s"'&,;}<>\\])]+)`,
    'gi',
  );

  return (text, counter) => {
    if (text.indexOf('=') === -1 && text.indexOf(':') === -1) return text;
    const before = counter.count;
    const out = text.replace(pattern, (match: string, lead: string, name: string, assign: string, scheme: string | undefined, value: string) => {
      const quote = value.startsWith('\\"') ? '\\"' : value.startsWith('"') ? '"' : value.startsWith("'") ? "'" : '';
      const bare = quote === '' ? value : value.slice(quote.length, value.length - quote.length);
      if (bare === REDACTED || bare === URL_REDACTED || bare.length === 0) return match;
      counter.count++;
      return `${lead}${name}${assign}${scheme ?? ''}${quote}${REDACTED}${quote}`;
    });
    return counter.count === before ? text : out;
  };
}
