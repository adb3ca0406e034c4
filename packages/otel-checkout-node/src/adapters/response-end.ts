import type { ServerResponse } from 'node:http';

/** The part of a Node response the adapters observe. */
export type RawResponse = Pick<ServerResponse, 'statusCode' | 'headersSent' | 'once' | 'writableFinished'>;

/**
 * Calls `done(statusCode, sent)` once, when the response has been sent ('finish') or the
 * connection closed before that ('close'). 'finish' comes first on a completed response,
 * which matters: instrumentation-http ends its server span on 'close', and the outcome must
 * be on that span before it ends. Every framework here sits on a Node `ServerResponse`, so
 * this is the one place that decides when a request is over. `sent` is `false` when the
 * connection closed before the response's headers went out: `statusCode` is then only the
 * default (200) or what the handler had set, and the client never saw it.
 */
export function onResponseDone(res: RawResponse, done: (statusCode: number, sent: boolean) => void): void {
  let called = false;
  const fire = (): void => {
    if (called) return;
    called = true;
    done(res.statusCode, res.headersSent);
  };
  if (res.writableFinished) {
    fire();
    return;
  }
  res.once('finish', fire);
  res.once('close', fire);
}
