import type { PropagateTarget } from '../types.js';

/**
 * `url` resolved against `base` (by default the page's address), or `undefined` when it is
 * not a URL at all.
 */
export function parseUrl(url: string, base = typeof location === 'undefined' ? undefined : location.href): URL | undefined {
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
  if (typeof target !== 'string' || !/^https?:\/\//i.test(target)) return undefined;
  const url = parseUrl(target);
  return url && url.origin + url.pathname;
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
