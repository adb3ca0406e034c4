/**
 * A lean fetch/XHR propagation instead of `@opentelemetry/instrumentation-fetch`: it only
 * adds `traceparent`/`baggage` to requests for the configured targets and times them as a
 * CLIENT span, which is all a checkout needs, for a fraction of the bytes (see the README).
 *
 * Patching is idempotent (a second install finds its own marker) and reversible: uninstall
 * restores the originals when nobody wrapped them after us, and otherwise turns our wrapper
 * into a pass-through, so unpatching never breaks a later wrapper.
 */

/** What the runtime does for one request it decided to trace. */
export interface RequestTrace {
  /** Headers to add. */
  readonly headers: Record<string, string>;
  end(status: number | undefined, error?: unknown): void;
}

/** Decides whether a request is traced; `undefined` leaves it untouched. */
export type TraceRequest = (method: string, url: string) => RequestTrace | undefined;

const MARK = Symbol.for('@otel-checkout/web.patched');

/** What another copy of this package (a second version on the page) reads: whether the wrapper is live. */
interface Marked {
  [MARK]?: { active: boolean };
}

function patchFetch(trace: TraceRequest): (() => void) | undefined {
  if (typeof globalThis.fetch !== 'function' || (globalThis.fetch as Marked)[MARK]?.active) return undefined;
  const original = globalThis.fetch;
  const state = { active: true };
  const patched = function fetch(this: unknown, input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
    if (!state.active) return original.call(this, input, init);
    let request: RequestTrace | undefined;
    let nextInit = init;
    try {
      // What a Request says, which `init` overrides; nothing for anything else.
      const given: Partial<Request> = typeof Request === 'function' && input instanceof Request ? input : {};
      // As fetch itself reads it: anything but a Request is stringified (a URL, or an object with its own toString).
      // eslint-disable-next-line @typescript-eslint/no-base-to-string -- exactly what fetch does with it
      const url = given.url ?? String(input);
      const method = (init?.method ?? given.method ?? 'GET').toUpperCase();
      // A no-cors request is left alone: the browser strips `traceparent` and `baggage` from
      // it (only CORS-safelisted headers go), and its response is opaque (status 0), so its
      // span would claim a propagation no server span can follow.
      if ((init?.mode ?? given.mode) !== 'no-cors') request = trace(method, url);
      if (request !== undefined) {
        const headers = new Headers(init?.headers ?? given.headers);
        // `baggage` is a list that other tools on the page add to as well (an error tracker's
        // sampling context): ours joins theirs, as XHR's setRequestHeader joins them. There is
        // only one parent, though: `traceparent` replaces any other.
        headers.delete('traceparent');
        for (const [name, value] of Object.entries(request.headers)) headers.append(name, value);
        nextInit = { ...init, headers };
      }
    } catch (error) {
      // Tracing failed, or the page's own headers could not be read: the request goes out
      // untouched, and a span already started ends.
      request?.end(undefined, error);
      request = undefined;
      nextInit = init;
    }
    const result = original.call(this, input, nextInit);
    if (request !== undefined) {
      const traced = request;
      result.then(
        (response) => traced.end(response.status),
        (error: unknown) => traced.end(undefined, error),
      );
    }
    return result;
  };
  (patched as Marked)[MARK] = state;
  globalThis.fetch = patched;
  return () => {
    state.active = false;
    if (globalThis.fetch === patched) globalThis.fetch = original;
  };
}

interface XhrInfo {
  method: string;
  url: string;
  /** The page's own `traceparent`, held back until send() knows whether ours replaces it. */
  traceparent?: string;
}

function patchXhr(trace: TraceRequest): (() => void) | undefined {
  if (typeof XMLHttpRequest !== 'function') return undefined;
  const proto = XMLHttpRequest.prototype;
  if ((proto.send as Marked)[MARK]?.active) return undefined;
  const requests = new WeakMap<XMLHttpRequest, XhrInfo>();
  // eslint-disable-next-line @typescript-eslint/unbound-method -- kept to be called with the request as `this`
  const originalOpen = proto.open;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- kept to be called with the request as `this`
  const originalSend = proto.send;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- kept to be called with the request as `this`
  const originalSetHeader = proto.setRequestHeader;
  const state = { active: true };
  const open = function open(this: XMLHttpRequest, ...args: unknown[]): void {
    if (state.active) requests.set(this, { method: String(args[0]).toUpperCase(), url: String(args[1]) });
    (originalOpen as (...a: unknown[]) => void).apply(this, args);
  };
  // XHR joins two values of one header into one, which for `traceparent` is no valid parent at
  // all: the page's own (another tracer's) waits for send(), where ours replaces it, as on fetch.
  const setRequestHeader = function setRequestHeader(this: XMLHttpRequest, name: string, value: string): void {
    const info = requests.get(this);
    if (info !== undefined && String(name).toLowerCase() === 'traceparent') info.traceparent = value;
    else originalSetHeader.call(this, name, value);
  };
  const send = function send(this: XMLHttpRequest, body?: Document | XMLHttpRequestBodyInit | null): void {
    const info = requests.get(this);
    // Sent: from now on the page's headers go straight to the request (and throw as they should).
    requests.delete(this);
    let request: RequestTrace | undefined;
    try {
      if (info !== undefined && state.active) request = trace(info.method, info.url);
    } catch {
      // Tracing failed: the request goes out untouched.
    }
    if (request === undefined && info?.traceparent !== undefined) originalSetHeader.call(this, 'traceparent', info.traceparent);
    if (request !== undefined) {
      try {
        for (const [name, value] of Object.entries(request.headers)) this.setRequestHeader(name, value);
        // Status 0: no response at all (network error, abort, timeout).
        this.addEventListener('loadend', () => (this.status ? request.end(this.status) : request.end(undefined, 'network error')), { once: true });
      } catch {
        // Not open or already sent: the original send throws that to the caller as usual, and
        // ends the span below.
      }
    }
    try {
      originalSend.call(this, body);
    } catch (error) {
      // A synchronous request that failed, or a send the browser refused: no loadend may follow.
      request?.end(undefined, error);
      throw error;
    }
  };
  (send as Marked)[MARK] = state;
  proto.open = open;
  proto.send = send;
  proto.setRequestHeader = setRequestHeader;
  return () => {
    state.active = false;
    if (proto.open === (open as typeof proto.open)) proto.open = originalOpen;
    if (proto.send === send) proto.send = originalSend;
    if (proto.setRequestHeader === setRequestHeader) proto.setRequestHeader = originalSetHeader;
  };
}

/** Patches fetch and XHR; returns "unpatch". Safe to call when either is missing or already patched. */
export function installPropagation(trace: TraceRequest): () => void {
  const undo = [patchFetch(trace), patchXhr(trace)];
  return () => {
    for (const step of undo) step?.();
  };
}
