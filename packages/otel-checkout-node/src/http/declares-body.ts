import type { RequestView } from './request-view.js';

/** A body the request declares, by Content-Length or a Transfer-Encoding. */
export function declaresBody(view: RequestView): boolean {
  const length = view.headers['content-length'];
  if (length !== undefined) return Number(length) > 0;
  return view.headers['transfer-encoding'] !== undefined;
}
