/**
 * Sets `param=token` in a URL's query, keeping the rest of the query and the fragment as
 * they are. Works on absolute and relative URLs; the existing parameter of the same name is
 * replaced (a URL minted twice carries one token).
 */
export function withTokenParam(url: string, param: string, token: string): string {
  const hashAt = url.indexOf('#');
  const fragment = hashAt >= 0 ? url.slice(hashAt) : '';
  const beforeFragment = hashAt >= 0 ? url.slice(0, hashAt) : url;
  const queryAt = beforeFragment.indexOf('?');
  const base = queryAt >= 0 ? beforeFragment.slice(0, queryAt) : beforeFragment;
  const query = queryAt >= 0 ? beforeFragment.slice(queryAt + 1) : '';
  const encodedParam = encodeURIComponent(param);
  const kept = query.split('&').filter((part) => part !== '' && decodeName(part.split('=')[0]) !== param);
  kept.push(`${encodedParam}=${token}`);
  return `${base}?${kept.join('&')}${fragment}`;
}

function decodeName(name: string): string {
  try {
    return decodeURIComponent(name.replace(/\+/g, ' '));
  } catch {
    return name;
  }
}
