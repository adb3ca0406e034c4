import { SENSITIVE_KEY_ENDINGS } from './constants.js';

/** Bounds the cache of decisions: names are few in practice, but input could make up new ones per request. */
const MAX_DECIDED = 4096;

/**
 * Lower case without the characters people put between words: `Card-Number` → `cardnumber`.
 * A `?` goes too: instrumentation-undici records `url.query` with its leading `?`
 * (`?otc_flow=...&sign=...`), which would otherwise hide the first parameter's name.
 */
export function squashName(name: string): string {
  return name.toLowerCase().replace(/[-_.[\]\s?]/g, '');
}

/** Whether a name (an attribute key, a header or query parameter name) is sensitive. */
export type SensitiveNames = (key: string) => boolean;

/**
 * Decides whether an attribute key, header name or query parameter name is sensitive.
 * `names` are matched (after squashing) against the last segment of the key and its last two
 * segments joined, segments being split at `.` and `[` (`payment.card.number`,
 * `card[number]`, `http.request.header.x-api-key`); `endings` make any last segment that
 * ends with them sensitive. A closure rather than a class, so its state minifies on every
 * checkout page.
 */
export function sensitiveNames(names: readonly string[], endings: readonly string[] = SENSITIVE_KEY_ENDINGS): SensitiveNames {
  const squashed: ReadonlySet<string> = new Set(names.map(squashName).filter((n) => n.length > 0));
  /** Names repeat (the same attribute keys and query parameters on every request): decide each once. */
  const decided = new Map<string, boolean>();

  const decide = (key: string): boolean => {
    const lower = key.toLowerCase();
    let cut = Math.max(lower.lastIndexOf('.'), lower.lastIndexOf('['));
    // A trailing `]` closes the last bracket segment: `card[cvv]` → `cvv]` → `cvv`.
    if (cut === lower.length - 1) cut = Math.max(lower.lastIndexOf('.', cut - 1), lower.lastIndexOf('[', cut - 1));
    // Trailing digits name a variant, not another thing: `cvc2`, `x-hub-signature-256`.
    const last = squashName(lower.slice(cut + 1)).replace(/\d+$/, '');
    if (last.length === 0) return false;
    if (squashed.has(last) || last.includes('hmac')) return true;
    for (const ending of endings) {
      if (last.endsWith(ending)) return true;
    }
    if (cut > 0) {
      const previousCut = Math.max(lower.lastIndexOf('.', cut - 1), lower.lastIndexOf('[', cut - 1));
      if (squashed.has(squashName(lower.slice(previousCut + 1, cut)) + last)) return true;
    }
    return false;
  };

  return (key) => {
    let sensitive = decided.get(key);
    if (sensitive === undefined) {
      sensitive = decide(key);
      if (decided.size >= MAX_DECIDED) decided.clear();
      decided.set(key, sensitive);
    }
    return sensitive;
  };
}
