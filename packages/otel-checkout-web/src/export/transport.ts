/**
 * Sends OTLP request bodies so they survive the page going away. Browsers cap the bodies of
 * in-flight keepalive requests at 64 KiB in total, and Chromium counts `sendBeacon` bodies
 * against the same quota, so this transport keeps its own account of both: keepalive while
 * the budget allows, `sendBeacon` when the page is leaving and the budget is spent, a plain
 * request otherwise. Going over the quota is not reported in time: a keepalive request the
 * browser refuses fails only after the page has gone, so it is never attempted.
 */

/** Bytes of keepalive and beacon bodies in flight at most; under the 65,536 the Fetch standard allows, for headroom. */
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

/**
 * How a body was sent, or else why not, in words safe to log: the status when the collector
 * answered (never its body). Without an answer the page learns nothing more: a refused CORS
 * request and an unreachable host are the same TypeError to it, and the error's text is not ours
 * to log.
 */
export type SendResult = 'ok' | 'beacon' | `HTTP ${number}` | 'no response (network error, CORS or timeout)';

export interface Transport {
  /** Keepalive while the budget allows, else a plain request. Never rejects. */
  send(body: string, bytes: number): Promise<SendResult>;
  /**
   * For the page being hidden or left, where only keepalive or a beacon gets out: `undefined`
   * when the browser refused the body (nothing was sent), else the pending result.
   */
  sendLeaving(body: string, bytes: number): Promise<SendResult> | undefined;
}

// A closure rather than a class: its private state then minifies to one-letter names.
export function createTransport(options: TransportOptions): Transport {
  let keepaliveBytes = 0;
  let keepaliveRequests = 0;
  const fits = (bytes: number): boolean => keepaliveRequests < KEEPALIVE_MAX_REQUESTS && keepaliveBytes + bytes <= KEEPALIVE_BUDGET_BYTES;

  const post = (body: string, keepalive: boolean): Promise<SendResult> => {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), options.timeoutMillis);
    // The executor runs at once, so fetch is called in this task (a page being left has no
    // later one), and a fetch that throws (a wrapper on the page) rejects instead.
    return new Promise<Response>((resolve) =>
      resolve(
        options.fetch.call(globalThis, options.url, {
          method: 'POST',
          body,
          keepalive,
          credentials: 'omit',
          // No Referer: the page's address may hold the flow token (a return page exports before
          // resume() takes it out), and a collector on the page's origin would get it in full.
          referrer: '',
          headers: { 'Content-Type': 'application/json', ...options.headers },
          signal: abort.signal,
        }),
      ),
    )
      .then(
        (response): SendResult => (response.ok ? 'ok' : `HTTP ${response.status}`),
        (): SendResult => 'no response (network error, CORS or timeout)',
      )
      .finally(() => clearTimeout(timer));
  };

  const beacon = (body: string, bytes: number): boolean => {
    try {
      // A beacon cannot leave out the Referer, and a collector on the page's origin gets the
      // page's full address in it: the flow token and the provider's parameters of a return
      // page's query. Such a page refuses itself a beacon; the batch waits for the next page,
      // as one the browser refused does. (A fragment never goes in a Referer.)
      if (location.search || !navigator.sendBeacon(options.url, new Blob([body], { type: 'application/json' }))) return false;
    } catch {
      // No sendBeacon (or no location) here, or it threw: nothing left to try.
      return false;
    }
    // The browser never says when it has sent a beacon, so its bytes count until an export
    // would have timed out: a page that leaves never gets that quota back anyway, and one
    // only hidden (a tab switch, the back/forward cache) must not lose keepalive for good.
    keepaliveBytes += bytes;
    setTimeout(() => (keepaliveBytes -= bytes), options.timeoutMillis);
    return true;
  };

  const send = (body: string, bytes: number): Promise<SendResult> => {
    if (!fits(bytes)) return post(body, false);
    keepaliveBytes += bytes;
    keepaliveRequests++;
    return post(body, true).finally(() => {
      keepaliveBytes -= bytes;
      keepaliveRequests--;
    });
  };

  return {
    send,
    sendLeaving: (body, bytes) => (fits(bytes) ? send(body, bytes) : beacon(body, bytes) ? Promise.resolve('beacon') : undefined),
  };
}
