import type { PropagateTarget } from '../types.js';

/** `url` resolved against the page, or `undefined` when it is not a URL at all. */
export function parseUrl(url: string): URL | undefined {
  try {
    return new URL(url, typeof location === 'undefined' ? undefined : location.href);
  } catch {
    return undefined;
  }
}

/**
 * Whether `url` is one of `targets`: a string target matches its exact origin or, when it
 * has a path, the URL prefix; a RegExp is tested on the full URL. Takes the parsed URL so a
 * request is parsed once, however many targets there are.
 */
export function matchesTarget(url: URL, targets: readonly PropagateTarget[]): boolean {
  const href = url.href;
  for (const target of targets) {
    if (target instanceof RegExp) {
      target.lastIndex = 0;
      if (target.test(href)) return true;
    } else if (typeof target === 'string' && target.length > 0) {
      if (url.origin === target.replace(/\/+$/, '')) return true;
      if (/^[a-z]+:\/\/[^/]+\/./i.test(target) && href.startsWith(target)) return true;
    }
  }
  return false;
}
