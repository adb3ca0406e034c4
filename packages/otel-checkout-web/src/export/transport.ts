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

export class Transport {
  private keepaliveBytes = 0;
  private keepaliveRequests = 0;

  constructor(private readonly options: TransportOptions) {}

  /**
   * Never rejects. `leaving`: the page is being hidden or unloaded, only keepalive or beacon
   * can get out; then the promise of a body no way was left for resolves `dropped` at once
   * (`sendLeaving` tells the same synchronously).
   */
  send(body: string, bytes: number, leaving: boolean): Promise<SendResult> {
    if (this.keepaliveFits(bytes)) {
      this.keepaliveBytes += bytes;
      this.keepaliveRequests += 1;
      return this.post(body, true).finally(() => {
        this.keepaliveBytes -= bytes;
        this.keepaliveRequests -= 1;
      });
    }
    if (leaving) return Promise.resolve(this.beacon(body));
    return this.post(body, false);
  }

  private keepaliveFits(bytes: number): boolean {
    return this.keepaliveRequests < KEEPALIVE_MAX_REQUESTS && this.keepaliveBytes + bytes <= KEEPALIVE_BUDGET_BYTES;
  }

  /** For the leaving page: `undefined` when the browser refused the body (nothing was sent), else the pending result. */
  sendLeaving(body: string, bytes: number): Promise<SendResult> | undefined {
    if (this.keepaliveFits(bytes)) return this.send(body, bytes, true);
    const result = this.beacon(body);
    return result === 'dropped' ? undefined : Promise.resolve(result);
  }

  private post(body: string, keepalive: boolean): Promise<SendResult> {
    const abort = typeof AbortController === 'function' ? new AbortController() : undefined;
    const timer = setTimeout(() => abort?.abort(), this.options.timeoutMillis);
    let request: Promise<Response>;
    try {
      request = this.options.fetch.call(globalThis, this.options.url, {
        method: 'POST',
        body,
        keepalive,
        credentials: 'omit',
        headers: { 'Content-Type': 'application/json', ...this.options.headers },
        signal: abort?.signal,
      });
    } catch {
      clearTimeout(timer);
      return Promise.resolve('failed');
    }
    return request.then(
      (response): SendResult => {
        clearTimeout(timer);
        return response.ok ? 'ok' : 'failed';
      },
      (): SendResult => {
        clearTimeout(timer);
        return 'failed';
      },
    );
  }

  private beacon(body: string): SendResult {
    try {
      if (typeof navigator === 'undefined' || typeof navigator.sendBeacon !== 'function') return 'dropped';
      return navigator.sendBeacon(this.options.url, new Blob([body], { type: 'application/json' })) ? 'beacon' : 'dropped';
    } catch {
      return 'dropped';
    }
  }
}
