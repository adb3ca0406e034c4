const KNOWN_METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'CONNECT', 'OPTIONS', 'TRACE', 'PATCH']);

/** `http.request.method` as the HTTP semantic conventions want it: a known method in upper case, else `_OTHER`. */
export function normalizeMethod(method: string | undefined): string {
  const upper = typeof method === 'string' ? method.toUpperCase() : '';
  return KNOWN_METHODS.has(upper) ? upper : '_OTHER';
}

/** `url.path`: the request target without its query and fragment (those may hold tokens). */
export function pathOf(url: string | undefined): string {
  if (typeof url !== 'string') return '/';
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}

/** Whether a request's socket is a TLS socket (Node's `TLSSocket` says so with `encrypted`). */
export function isTlsSocket(socket: unknown): boolean {
  return (socket as { encrypted?: unknown } | null | undefined)?.encrypted === true;
}

/** `url.scheme` of a request from the socket it came on: `https` on a TLS socket, else `http`. */
export function urlSchemeOf(socket: unknown): 'http' | 'https' {
  return isTlsSocket(socket) ? 'https' : 'http';
}
