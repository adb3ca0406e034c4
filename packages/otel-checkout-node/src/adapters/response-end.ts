import type { ServerResponse } from 'node:http';
import { whenQueuedResponseLost } from '../http/queued-response.js';

/** The part of a Node response the adapters observe. */
export type RawResponse = Pick<ServerResponse, 'statusCode' | 'headersSent' | 'prependListener' | 'writableFinished' | 'destroyed'> & {
  /** True once the response emitted 'close' (Node's `OutgoingMessage#closed`; absent on older Node). */
  readonly closed?: boolean;
  /** The connection, once the response has it (null while queued behind another response). */
  readonly socket?: unknown;
  /** The request, whose `socket` is the connection it came on. */
  readonly req?: { readonly socket?: unknown };
};

/**
 * Calls `done(statusCode, sent, complete)` once, when the response is over: on its 'close',
 * which Node emits once per response, after 'finish' on a completed one and alone when the
 * connection closed first. The listener is put first: instrumentation-http and this package's server
 * span end the HTTP server span on 'close' too, and the outcome must be on it before. One
 * listener rather than one on 'finish' and one on 'close': each costs per request. Every
 * framework here sits on a Node `ServerResponse`, so this is the one place that decides when
 * a request is over. `sent` is `false` when the connection closed before the response's
 * headers went out: `statusCode` is then only the default (200) or what the handler had set,
 * and the client never saw it. `complete` is `false` when the connection closed before the
 * whole response went out (nothing at all, or headers and part of a body: a handler that threw
 * after writing, a piped stream the client stopped reading): the status was then not the
 * answer the client got, and a server span must not record it as one.
 *
 * A response queued behind another on a pipelining connection gets no 'close' from Node when
 * the connection closes first: it is over then, with nothing sent (see queued-response.ts).
 */
export function onResponseDone(res: RawResponse, done: (statusCode: number, sent: boolean, complete: boolean) => void): void {
  // `closed` says exactly whether 'close' was emitted already (a listener added now would
  // never run); where Node lacks it, a finished or destroyed response is taken as over.
  if (res.closed ?? (res.writableFinished || res.destroyed)) {
    done(res.statusCode, res.headersSent, res.writableFinished);
    return;
  }
  let reported = false;
  res.prependListener('close', () => {
    if (reported) return;
    reported = true;
    done(res.statusCode, res.headersSent, res.writableFinished);
  });
  whenQueuedResponseLost(
    res,
    () => {
      if (reported) return;
      reported = true;
      // Its headers may be written, but only into the queue: nothing went to the client.
      done(res.statusCode, false, false);
    },
    true,
  );
}
