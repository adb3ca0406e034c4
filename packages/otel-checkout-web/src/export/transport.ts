/**
 * Sends OTLP request bodies so they survive the page going away. Browsers cap the bodies of
 * in-flight keepalive requests at 64 KiB in total (Chromium also counts `sendBeacon` against
 * its own quota), so this transport keeps its own account: keepalive while the budget allows,
 * `sendBeacon` when the page is leaving and the budget is spent, a plain request otherwise.
 */

/** Bytes of keepalive bodies in flight at most; under the 65,536 the Fetch standard allows, for headroom. */
export const KEEPALIVE_BUDGET_BYTES = 60_000;
/** Keepalive requests in flight at most. */
export const KEEPALIVE_MAX_REQUESTS = 4;

export interface TransportOptions {
  url: string;
  headers: Record<string, string>;
  timeoutMillis: number;
  /** The page's fetch before any patching, so export requests are never instrumented. */
  fetch: typeof fetch;
}

/** How a body was sent; `dropped` when no way was left. */
export type SendResult = 'ok' | 'failed' | 'beacon' | 'dropped';

export interface Transport {
  /**
   * Never rejects. `leaving`: the page is being hidden or unloaded, only keepalive or beacon
   * can get out.
   */
  send(body: string, bytes: number, leaving: boolean): Promise<SendResult>;
  /** For the leaving page: `undefined` when the browser refused the body (nothing was sent), else the pending result. */
  sendLeaving(body: string, bytes: number): Promise<SendResult> | undefined;
}

// A closure rather than a class: its private state then minifies to one-letter names.
export function createTransport(options: TransportOptions): Transport {
  let keepaliveBytes = 0;
  let keepaliveRequests = 0;
  const fits = (bytes: number): boolean => keepaliveRequests < KEEPALIVE_MAX_REQUESTS && keepaliveBytes + bytes <= KEEPALIVE_BUDGET_BYTES;

  const post = (body: string, keepalive: boolean): Promise<SendResult> => {
    const abort = typeof AbortController === 'function' ? new AbortController() : undefined;
    const timer = setTimeout(() => abort?.abort(), options.timeoutMillis);
    const settle = (result: SendResult): SendResult => {
      clearTimeout(timer);
      return result;
    };
    try {
      return options.fetch
        .call(globalThis, options.url, {
          method: 'POST',
          body,
          keepalive,
          credentials: 'omit',
          headers: { 'Content-Type': 'application/json', ...options.headers },
          signal: abort?.signal,
        })
        .then(
          (response) => settle(response.ok ? 'ok' : 'failed'),
          () => settle('failed'),
        );
    } catch {
      return Promise.resolve(settle('failed'));
    }
  };

  const beacon = (body: string): SendResult => {
    try {
      return navigator.sendBeacon(options.url, new Blob([body], { type: 'application/json' })) ? 'beacon' : 'dropped';
    } catch {
      // No sendBeacon here, or it threw: nothing left to try.
      return 'dropped';
    }
  };

  const send = (body: string, bytes: number, leaving: boolean): Promise<SendResult> => {
    if (fits(bytes)) {
      keepaliveBytes += bytes;
      keepaliveRequests += 1;
      return post(body, true).finally(() => {
        keepaliveBytes -= bytes;
        keepaliveRequests -= 1;
      });
    }
    return leaving ? Promise.resolve(beacon(body)) : post(body, false);
  };

  return {
    send,
    sendLeaving(body, bytes) {
      if (fits(bytes)) return send(body, bytes, true);
      const result = beacon(body);
      return result === 'dropped' ? undefined : Promise.resolve(result);
    },
  };
}
