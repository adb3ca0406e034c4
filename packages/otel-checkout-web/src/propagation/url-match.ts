import type { PropagateTarget } from '../types.js';

/**
 * `url` resolved against `base` (by default the page's address), or `undefined` when it is
 * not a URL at all.
 */
export function parseUrl(url: string, base = globalThis.location?.href): URL | undefined {
  try {
    return new URL(url, base);
  } catch {
    return undefined;
  }
}

/**
 * A `propagateTo` entry as matching compares it, or `undefined` when it can never match. A
 * string must be an absolute http(s) URL; it becomes its origin and path as a request URL
 * spells them (host in lower case, no default port, `/` for a bare origin; a query is not
 * part of a prefix), so targets and requests written differently still compare equal.
 */
export function normalizeTarget(target: unknown): PropagateTarget | undefined {
  if (target instanceof RegExp) return target;
  const url = httpUrl(target);
  return url && url.origin + url.pathname;
}

/**
 * The origin of an entry of an origins option (`messageOrigins`, `answerChallenge`'s
 * `origins`), as the browser spells it in `event.origin`: `https://Shop.example:443/` is
 * `https://shop.example`. `undefined` for anything but an absolute http(s) URL.
 */
export function originOf(entry: unknown): string | undefined {
  return httpUrl(entry)?.origin;
}

/** `value` parsed, when it is a string holding an absolute http(s) URL. */
export function httpUrl(value: unknown): URL | undefined {
  return typeof value === 'string' && /^https?:\/\//i.test(value) ? parseUrl(value) : undefined;
}

/**
 * Whether `url` is one of `targets` (normalised): a string matches the URLs under it, ending
 * at a path boundary, so `/api/x` is not a prefix of `/api/xhr`; a RegExp is tested on the
 * full URL. Takes the parsed URL so a request is parsed once, however many targets there are.
 */
export function matchesTarget(url: URL, targets: readonly PropagateTarget[]): boolean {
  const path = url.origin + url.pathname;
  for (const target of targets) {
    if (typeof target === 'string') {
      if (path.startsWith(target) && (target.endsWith('/') || path.length === target.length || path[target.length] === '/')) return true;
    } else {
      target.lastIndex = 0;
      if (target.test(url.href)) return true;
    }
  }
  return false;
}
