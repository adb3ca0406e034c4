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

/**
 * An XML element holding only text or a CDATA section (`<sign><![CDATA[9A0A…]]></sign>`, as
 * WeChat Pay v2 notifications and many bank APIs send them): 1 the start tag, 2 its name (a
 * namespace prefix included: `wsse:Password`), 3 the content, 4 the end tag (`<\/sign>` too, as
 * JSON encoders that escape `/` write it). No part can run past a `<` it did not start with (the
 * name must end at a space or `>`, a CDATA section holds no `<`), so every `<` costs a scan to the
 * next one at most, never to the end of the text.
 */
const XML_ELEMENT = /(<([\w.:-]+)(?:\s[^<>]*)?>)(<!\[CDATA\[[^<]*]]>|[^<]+)(<\\?\/\2>)/g;

/** Replaces the values of sensitive inline pairs in free text; returns `text` itself when there were none. */
export type InlinePairScrubber = (text: string, counter: RedactionCounter) => string;

/**
 * Finds `name=value`, `name: value`, `"name": "value"` (also JSON escaped inside a string),
 * `Authorization: Bearer value` and `Bearer <long token>` in free text, and replaces the value
 * with `[REDACTED]`, keeping the quotes and the auth scheme, when the name is one `sensitive`
 * takes as an attribute key: the same names and endings (`webhookSecret=`, `stripe_api_key:`,
 * `x-session-token=`), so a secret is masked in an exception message as it is in an attribute.
 * A pair right after `?` or `&` is a query parameter, judged by `inQuery` as in a URL
 * (`/geocode?key=AIza…`).
 *
 * A `Cookie:` or `Set-Cookie:` header quoted bare holds several cookies (`a=1; session=…`): its
 * value runs to the end of its line and is masked whole (`Cookie: [REDACTED]`), as the header's
 * attribute is. An XML element with a sensitive name (`<sign>…</sign>`, `<wsse:Password>`) gets
 * its text or CDATA section replaced, its tags kept.
 */
export function inlinePairScrubber(sensitive: SensitiveNames, inQuery: SensitiveNames): InlinePairScrubber {
  return (text, counter) => {
    let out = '';
    let copied = 0;
    PAIR.lastIndex = 0;
    for (let pair = PAIR.exec(text); pair !== null; pair = PAIR.exec(text)) {
      const [, lead, name, assign, scheme = '', value] = pair;
      const quote = value.startsWith('\\"') ? '\\"' : value.startsWith('"') ? '"' : value.startsWith("'") ? "'" : '';
      const bare = value.slice(quote.length, value.length - quote.length);
      if (
        !(lead === '?' || lead === '&' ? inQuery : sensitive)(name) ||
        bare === REDACTED ||
        bare === URL_REDACTED ||
        bare.length === 0
      ) {
        // Only the name is passed over: the value may itself hold a pair (`note=password=x`).
        PAIR.lastIndex = pair.index + lead.length + name.length;
        continue;
      }
      // A header (`name:`), not a `cookie=` parameter: its value goes on from where it starts to
      // the end of its line (a line break, or the `\n` of text escaped in JSON: a cookie holds no
      // `\`, but JSON escapes a quoted cookie's quotes with one). No end: `>>> 0` makes -1 the
      // largest index. Searched only for a value that is masked, so each line is searched once.
      if (!quote && assign.includes(':') && /cookie$/i.test(name)) {
        PAIR.lastIndex -= value.length;
        PAIR.lastIndex += text.slice(PAIR.lastIndex).search(/[\r\n]|\\[rn]/) >>> 0;
      }
      counter.count++;
      out += `${text.slice(copied, pair.index)}${lead}${name}${assign}${scheme}${quote}${REDACTED}${quote}`;
      // The end of the match, or of a cookie header's line (past the text's end when it has none).
      copied = PAIR.lastIndex;
    }
    // Text without a `<` costs one scan for it (the pattern starts with one), and comes back as it was.
    return (copied === 0 ? text : out + text.slice(copied)).replace(XML_ELEMENT, (element, open: string, name: string, content: string, close: string) =>
      // `wsse:Password` is judged as `wsse.Password` is: by its last segment.
      content === REDACTED || !sensitive(name.replace(':', '.')) ? element : (counter.count++, open + REDACTED + close),
    );
  };
}
