import type { Span } from '@opentelemetry/api';
import { warn } from '../safely.js';
import type { SdkInfo } from '../types.js';

/** What names an SDK on its spans. */
export type SdkName = Pick<SdkInfo, 'name' | 'version'>;

/** What the wrapper needs from its flow. */
export interface SdkHost {
  /** Starts the span of one SDK call, `payment.sdk <method>`, under the flow. */
  startSpan(info: SdkName, method: string): Span;
  /** Runs `fn` with `span` as the parent of requests it starts. */
  within<T>(span: Span, fn: () => T): T;
  /** Records an SDK error of the call `startSpan(info, method)` began (event `payment.sdk.error`, ERROR status) and ends the span. */
  failed(span: Span, error: unknown, info: SdkName, method: string): void;
  succeeded(span: Span): void;
}

/** Listed method names reported as not being functions: each once per page. */
const reported = new Set<string>();
/** Our proxies, so wrapping a wrapped SDK does not trace each call twice. */
const ours = new WeakSet<object>();

/** A page callback as the SDK gets it, and what it ends when called: the latest SDK call given it. */
type Wrapper = ((...a: unknown[]) => unknown) & { settle?: (callbackArgs: unknown[]) => void };

/**
 * One wrapper per page callback: the same handler reaches the SDK as the same function each
 * time, so `off(event, handler)` finds what `on(event, handler)` registered, and a handler
 * given twice is the same handler twice, as without the wrapper.
 */
const wrappers = new WeakMap<object, Wrapper>();

/**
 * Wraps every function argument so the first one called ends the span. With two or more
 * function arguments the second is taken as the error callback (`pay(order, onSuccess,
 * onError)`); a single one is Node-style: an `Error` as its first argument is a failure. A
 * callback given again to a later call (a payment retried with the same handlers) ends that
 * later call. Returns `undefined` when there is no function argument.
 */
function wrapCallbacks(args: unknown[], failed: (error: unknown) => void, succeeded: () => void): unknown[] | undefined {
  const count = args.filter((arg) => typeof arg === 'function').length;
  let settled = false;
  let nth = 0;
  const out = args.map((arg) => {
    if (typeof arg !== 'function') return arg;
    const isErrorCallback = nth++ === 1;
    const callback = arg as (...a: unknown[]) => unknown;
    let wrapper = wrappers.get(callback);
    if (wrapper === undefined) {
      const made: Wrapper = function (this: unknown, ...callbackArgs: unknown[]): unknown {
        made.settle?.(callbackArgs);
        return callback.apply(this, callbackArgs);
      };
      wrappers.set(callback, (wrapper = made));
    }
    wrapper.settle = (callbackArgs) => {
      if (settled) return;
      settled = true;
      try {
        if (count > 1 ? isErrorCallback : callbackArgs[0] instanceof Error) failed(callbackArgs[0]);
        else succeeded();
      } catch {
        // Tracing must never change what the SDK's callback sees.
      }
    };
    return wrapper;
  });
  return count > 0 ? out : undefined;
}

function traced(host: SdkHost, info: SdkName, method: string, original: (...a: unknown[]) => unknown, target: object, proxy: object) {
  return function (this: unknown, ...args: unknown[]): unknown {
    // Called as proxy.method(): the SDK sees itself as `this`, as it would unwrapped.
    const self = this === proxy ? target : this;
    let span: Span;
    /** The arguments with their callbacks wrapped; `undefined` when there are none. */
    let wrappedArgs: unknown[] | undefined;
    const failed = (error: unknown) => host.failed(span, error, info, method);
    const succeeded = () => host.succeeded(span);
    try {
      span = host.startSpan(info, method);
      wrappedArgs = wrapCallbacks(args, failed, succeeded);
    } catch {
      return original.apply(self, args);
    }
    let result: unknown;
    try {
      result = host.within(span, () => original.apply(self, wrappedArgs ?? args));
    } catch (error) {
      failed(error);
      throw error;
    }
    try {
      const thenable = result as PromiseLike<unknown> | null | undefined;
      if (typeof thenable?.then === 'function') {
        thenable.then(succeeded, failed);
      } else if (wrappedArgs === undefined) {
        succeeded();
      }
    } catch {
      // A promise-like whose `then` throws (or whose `then` getter does): what the SDK returned
      // is the page's to handle, as without tracing; the call's span just ends.
      succeeded();
    }
    return result;
  };
}

/**
 * A proxy of `sdk` whose traced methods become `payment.sdk <method>` spans; every other
 * behaviour is the SDK's own. `proxies` is the host's own: one proxy per SDK object and flow,
 * so wrapping twice returns the same proxy.
 */
export function wrapSdk<T extends object>(host: SdkHost, sdk: T, info: SdkInfo<T>, proxies: WeakMap<object, object>): T {
  if ((typeof sdk !== 'object' && typeof sdk !== 'function') || sdk === null || ours.has(sdk)) return sdk;
  if (typeof (info as SdkInfo<T> | null | undefined)?.name !== 'string') return sdk;
  const existing = proxies.get(sdk);
  if (existing !== undefined) return existing as T;
  const only = Array.isArray(info.methods)
    ? new Set(
        info.methods.map((method) => {
          const name = String(method);
          // A misspelt name (or one from another SDK version) would trace nothing, without a word.
          if (typeof (sdk as Record<string, unknown>)[name] !== 'function' && !reported.has(name)) {
            reported.add(name);
            warn(`wrapSdk: ${name} is not a method of ${info.name}`);
          }
          return name;
        }),
      )
    : undefined;
  /** Per method name: the SDK's function and its traced one. */
  const cache = new Map<PropertyKey, [original: unknown, wrapped: unknown]>();
  const proxy: T = new Proxy(sdk, {
    get(target, property, receiver) {
      const value: unknown = Reflect.get(target, property, receiver === proxy ? target : receiver);
      if (typeof value !== 'function' || typeof property !== 'string' || property === 'constructor') return value;
      const own = Reflect.getOwnPropertyDescriptor(target, property);
      // A Proxy must report a read-only, non-configurable property (a frozen SDK's) as it is: left untraced.
      if (only?.has(property) === false || (own?.writable === false && !own.configurable)) return value;
      const cached = cache.get(property);
      // Same wrapper each time (identity), rebuilt only if the SDK replaced its method.
      if (cached?.[0] === value) return cached[1];
      const wrapped = traced(host, info, property, value as (...a: unknown[]) => unknown, target, proxy);
      cache.set(property, [value, wrapped]);
      return wrapped;
    },
  });
  ours.add(proxy);
  proxies.set(sdk, proxy);
  return proxy;
}
