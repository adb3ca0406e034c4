import { REDACTED, URL_REDACTED } from './constants.js';
import type { RedactionCounter } from './counter.js';
import type { SensitiveNames } from './sensitive-names.js';

// 1: what precedes the name (the start, or a character no name holds), 2: the name (letters,
// digits, `_`, `-`, `.` and a form's brackets: `card[cvc]`), 3: the assignment (`:` or `=`, or
// only a space when a token of 20 or more characters follows: `Bearer eyJ…` quoted bare; a
// shorter word after a name is more likely prose, `token expired`), 4: an auth scheme (`Bearer`,
// `Basic`, or any word followed by a credential of 20 or more characters: `DPoP`, `Negotiate`),
// 5: the value (quoted, JSON escaped, or up to a separator).
const PAIR =
  /(^|[^\w.[\]-])([\w.[\]-]+)(\\?["']?\s*[:=]\s*|\s+(?=[\w.~+/-]{20}))((?:bearer|basic|[a-z]+(?=\s+[\w.~+/-]{20}))\s+)?(\[REDACTED\]|\\?"[^"\\]*\\?"|'[^']*'|[^\s"'&,;}<>\])]+)/gi;

/** Replaces the values of sensitive inline pairs in free text; returns `text` itself when there were none. */
export type InlinePairScrubber = (text: string, counter: RedactionCounter) => string;

/**
 * Finds `name=value`, `name: value`, `"name": "value"` (also JSON escaped inside a string),
 * `Authorization: Bearer value` and `Bearer <long token>` in free text, and replaces the value
 * with `[REDACTED]`, keeping the quotes and the auth scheme, when the name is one `sensitive`
 * takes as an attribute key: the same names and endings (`webhookSecret=`, `stripe_api_key:`,
 * `x-session-token=`), so a secret is masked in an exception message as it is in an attribute.
 */
export function inlinePairScrubber(sensitive: SensitiveNames): InlinePairScrubber {
  return (text, counter) => {
    let out = '';
    let copied = 0;
    PAIR.lastIndex = 0;
    for (let pair = PAIR.exec(text); pair !== null; pair = PAIR.exec(text)) {
      const [match, lead, name, assign, scheme = '', value] = pair;
      const quote = value.startsWith('\\"') ? '\\"' : value.startsWith('"') ? '"' : value.startsWith("'") ? "'" : '';
      const bare = value.slice(quote.length, value.length - quote.length);
      if (!sensitive(name) || bare === REDACTED || bare === URL_REDACTED || bare.length === 0) {
        // Only the name is passed over: the value may itself hold a pair (`note=password=x`).
        PAIR.lastIndex = pair.index + lead.length + name.length;
        continue;
      }
      counter.count++;
      out += `${text.slice(copied, pair.index)}${lead}${name}${assign}${scheme}${quote}${REDACTED}${quote}`;
      copied = pair.index + match.length;
    }
    return copied === 0 ? text : out + text.slice(copied);
  };
}
