import type { ServerResponse } from 'node:http';

/** The part of a Node response the adapters observe. */
export type RawResponse = Pick<ServerResponse, 'statusCode' | 'once' | 'writableFinished'>;

/**
 * Calls `done(statusCode)` once, when the response has been sent ('finish') or the
 * connection closed before that ('close'). 'finish' comes first on a completed response,
 * which matters: instrumentation-http ends its server span on 'close', and the outcome must
 * be on that span before it ends. Every framework here sits on a Node `ServerResponse`, so
 * this is the one place that decides when a request is over.
 */
export function onResponseDone(res: RawResponse, done: (statusCode: number) => void): void {
  let called = false;
  const fire = (): void => {
    if (called) return;
    called = true;
    done(res.statusCode);
  };
  if (res.writableFinished) {
    fire();
    return;
  }
  res.once('finish', fire);
  res.once('close', fire);
}
