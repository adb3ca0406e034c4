import type { Span } from '@opentelemetry/api';
import type { SdkInfo } from '../types.js';

/** What the wrapper needs from its flow. */
export interface SdkHost {
  /** Starts `payment.sdk <method>` under the flow. */
  startCall(info: SdkInfo, method: string): Span;
  /** Runs `fn` with `span` as the parent of requests it starts. */
  within<T>(span: Span, fn: () => T): T;
  /** Records an SDK error of the call `startCall(info, method)` began (event `payment.sdk.error`, ERROR status) and ends the span. */
  failed(span: Span, error: unknown, info: SdkInfo, method: string): void;
  succeeded(span: Span): void;
}

/** One proxy per SDK object and flow, so wrapping twice returns the same proxy. */
const proxies = new WeakMap<object, WeakMap<SdkHost, object>>();
/** Our proxies, so wrapping a wrapped SDK does not trace each call twice. */
const ours = new WeakSet<object>();

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as { then?: unknown } | null | undefined)?.then === 'function';
}

/**
 * Wraps every function argument so the first one called ends the span. With two or more
 * function arguments the second is taken as the error callback (`pay(order, onSuccess,
 * onError)`); a single one is Node-style: an `Error` as its first argument is a failure.
 */
function wrapCallbacks(host: SdkHost, span: Span, info: SdkInfo, method: string, args: unknown[]): { args: unknown[]; wrapped: boolean } {
  const positions: number[] = [];
  args.forEach((arg, index) => {
    if (typeof arg === 'function') positions.push(index);
  });
  if (positions.length === 0) return { args, wrapped: false };
  let settled = false;
  const out = args.slice();
  positions.forEach((position, nth) => {
    const callback = args[position] as (...a: unknown[]) => unknown;
    out[position] = function (this: unknown, ...callbackArgs: unknown[]): unknown {
      if (!settled) {
        settled = true;
        try {
          const isError = positions.length > 1 ? nth === 1 : callbackArgs[0] instanceof Error;
          if (isError) host.failed(span, callbackArgs[0], info, method);
          else host.succeeded(span);
        } catch {
          // Tracing must never change what the SDK's callback sees.
        }
      }
      return callback.apply(this, callbackArgs);
    };
  });
  return { args: out, wrapped: true };
}

function traced(host: SdkHost, info: SdkInfo, method: string, original: (...a: unknown[]) => unknown, target: object, proxy: object) {
  return function (this: unknown, ...args: unknown[]): unknown {
    // Called as proxy.method(): the SDK sees itself as `this`, as it would unwrapped.
    const self = this === proxy ? target : this;
    let span: Span;
    let prepared: { args: unknown[]; wrapped: boolean };
    try {
      span = host.startCall(info, method);
      prepared = wrapCallbacks(host, span, info, method, args);
    } catch {
      return original.apply(self, args);
    }
    let result: unknown;
    try {
      result = host.within(span, () => original.apply(self, prepared.args));
    } catch (error) {
      host.failed(span, error, info, method);
      throw error;
    }
    try {
      if (isThenable(result)) {
        result.then(
          () => host.succeeded(span),
          (error: unknown) => host.failed(span, error, info, method),
        );
      } else if (!prepared.wrapped) {
        host.succeeded(span);
      }
    } catch {
      // A promise-like whose `then` throws (or whose `then` getter does): what the SDK returned
      // is the page's to handle, as without tracing; the call's span just ends.
      host.succeeded(span);
    }
    return result;
  };
}

/** A proxy of `sdk` whose traced methods become `payment.sdk <method>` spans; every other behaviour is the SDK's own. */
export function wrapSdk<T extends object>(host: SdkHost, sdk: T, info: SdkInfo): T {
  if ((typeof sdk !== 'object' && typeof sdk !== 'function') || sdk === null || ours.has(sdk)) return sdk;
  if (typeof info !== 'object' || info === null || typeof info.name !== 'string') return sdk;
  let byHost = proxies.get(sdk);
  const existing = byHost?.get(host);
  if (existing !== undefined) return existing as T;
  const only = Array.isArray(info.methods) ? new Set(info.methods.map(String)) : undefined;
  const cache = new Map<PropertyKey, { original: unknown; wrapped: unknown }>();
  const proxy: T = new Proxy(sdk, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver === proxy ? target : receiver);
      if (typeof value !== 'function' || typeof property !== 'string' || property === 'constructor') return value;
      const own = Reflect.getOwnPropertyDescriptor(target, property);
      // A Proxy must report a read-only, non-configurable property (a frozen SDK's) as it is: left untraced.
      if (only?.has(property) === false || (own?.writable === false && !own.configurable)) return value;
      const cached = cache.get(property);
      // Same wrapper each time (identity), rebuilt only if the SDK replaced its method.
      if (cached !== undefined && cached.original === value) return cached.wrapped;
      const wrapped = traced(host, info, property, value as (...a: unknown[]) => unknown, target, proxy);
      cache.set(property, { original: value, wrapped });
      return wrapped;
    },
  });
  ours.add(proxy);
  if (byHost === undefined) {
    byHost = new WeakMap();
    proxies.set(sdk, byHost);
  }
  byHost.set(host, proxy);
  return proxy;
}
