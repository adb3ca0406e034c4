import type { PropagateTarget } from '../types.js';

/** Resolves `url` against the page, or `undefined` when it is not a URL at all. */
export function absoluteUrl(url: string): string | undefined {
  try {
    return new URL(url, typeof location === 'undefined' ? undefined : location.href).href;
  } catch {
    return undefined;
  }
}

/**
 * Whether `url` (absolute) is one of `targets`: a string target matches its exact origin or,
 * when it has a path, the URL prefix; a RegExp is tested on the full URL.
 */
export function matchesTarget(url: string, targets: readonly PropagateTarget[]): boolean {
  for (const target of targets) {
    if (target instanceof RegExp) {
      target.lastIndex = 0;
      if (target.test(url)) return true;
    } else if (typeof target === 'string' && target.length > 0) {
      const origin = originOf(url);
      if (origin === target.replace(/\/+$/, '')) return true;
      if (/^[a-z]+:\/\/[^/]+\/./i.test(target) && url.startsWith(target)) return true;
    }
  }
  return false;
}

export function originOf(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}
