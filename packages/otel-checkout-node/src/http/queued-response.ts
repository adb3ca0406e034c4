/**
 * A server response as far as its place on the connection goes: Node sets `socket` when the
 * response gets the connection, and `req.socket` is the connection its request came on.
 */
export interface QueuedResponseLike {
  readonly socket?: unknown;
  readonly writableFinished: boolean;
  readonly req?: { readonly socket?: unknown };
  prependListener(event: 'close', listener: () => void): unknown;
}

/** The part of a connection (a `net.Socket`) watched here. */
interface Connection {
  readonly destroyed: boolean;
  once(event: 'close', listener: () => void): unknown;
}

type Lost = () => void;

// Per connection, its queued responses still waiting, each with what to call if it is lost.
// Keyed weakly: a connection that is gone takes its entry with it.
const queuedOn = new WeakMap<Connection, Map<QueuedResponseLike, Lost[]>>();

/**
 * Calls `lost` when `res` is a response queued behind another on its connection (HTTP/1.1
 * pipelining: a request sent behind another on a kept-alive connection runs at once, but its
 * response has no `socket` until those before it are finished) and the connection closes
 * before the response got it. Node then emits neither 'finish' nor 'close' on that response,
 * so whoever ends something on its 'close' (a server span, a payment outcome) would wait for
 * ever. Returns whether `res` is such a response; a response that has its connection, or is
 * finished, gets its 'close' from Node and is left alone.
 *
 * `first` puts `lost` before the listeners registered for the same response without it, as
 * `prependListener` does for 'close': the payment middleware records its outcome on the server
 * span before that span ends. Only queued responses cost anything here: one 'close' listener
 * per connection, however many responses wait on it.
 */
export function whenQueuedResponseLost(res: QueuedResponseLike, lost: Lost, first: boolean): boolean {
  if (res.socket !== null || res.writableFinished) return false;
  const connection = res.req?.socket as Partial<Connection> | null | undefined;
  if (typeof connection?.once !== 'function') return false;
  if (connection.destroyed === true) {
    // Gone already: its 'close' may have been emitted, and this response will never be written.
    lost();
    return true;
  }
  const live = connection as Connection;
  let queued = queuedOn.get(live);
  if (queued === undefined) {
    const waiting = new Map<QueuedResponseLike, Lost[]>();
    queued = waiting;
    queuedOn.set(live, waiting);
    live.once('close', () => {
      queuedOn.delete(live);
      for (const [response, listeners] of waiting) {
        // One that got the connection after all is closed by Node itself, now or once finished.
        if (response.socket !== null || response.writableFinished) continue;
        for (const listener of listeners) listener();
      }
    });
  }
  let listeners = queued.get(res);
  if (listeners === undefined) {
    const own: Lost[] = [];
    listeners = own;
    queued.set(res, own);
    // A response that gets the connection and closes normally no longer waits on it.
    const waiting = queued;
    res.prependListener('close', () => waiting.delete(res));
  }
  if (first) listeners.unshift(lost);
  else listeners.push(lost);
  return true;
}
