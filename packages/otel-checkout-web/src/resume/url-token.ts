/** Reads the flow token from the page URL and removes it from the visible URL (and history entry). */
export function takeUrlToken(param: string): string | undefined {
  let url: URL;
  try {
    url = new URL(location.href);
  } catch {
    // No location here (not a page).
    return undefined;
  }
  const token = url.searchParams.get(param);
  if (token === null) return undefined;
  url.searchParams.delete(param);
  try {
    // The token must not stay in the address bar, bookmarks, the Referer of later requests or analytics.
    // The whole URL: a path alone resolves against a <base> that may name another origin, which replaceState refuses.
    history.replaceState(history.state, '', url.href);
  } catch {
    // Sandboxed documents may refuse; the token is still never used as a parent unverified.
  }
  return token;
}
