import { NOOP_FLOW } from './flow/noop-flow.js';
import type { Runtime } from './runtime.js';
import { safely, warn } from './safely.js';
import type { Checkout, CheckoutFlow, FlowDetails, ResumeOptions } from './types.js';

let current: Runtime | undefined;
/** Whether `startCheckoutTracing` ran, or the page was told it had not: that is said once. */
let told = false;

/** Set by `startCheckoutTracing`, cleared by `shutdown`. */
export function setRuntime(runtime: Runtime | undefined): void {
  current = runtime;
  told = true;
}

/**
 * `use` on the running setup, else `fallback`. Before any `startCheckoutTracing` a flow would
 * record nothing without a word, and checkout code that runs first is easy to miss.
 */
function entry<T>(what: string, use: (runtime: Runtime) => T, fallback: T): T {
  return safely(
    what,
    () => {
      if (!told) {
        told = true;
        warn(`${what} records nothing; call startCheckoutTracing first`);
      }
      return current ? use(current) : fallback;
    },
    fallback,
  );
}

/**
 * The module-level entry point. Before `startCheckoutTracing` and after `shutdown` it hands
 * out flows that record nothing and keep the page's behaviour, so checkout code can call it
 * unconditionally.
 */
export const checkout: Checkout = {
  begin: (details?: FlowDetails): CheckoutFlow => entry('checkout.begin', (runtime) => runtime.begin(details), NOOP_FLOW),

  onClick(target: EventTarget, getDetails?: (event: Event) => FlowDetails | undefined, onFlow?: (flow: CheckoutFlow) => void): () => void {
    if (typeof (target as EventTarget | null | undefined)?.addEventListener !== 'function') {
      warn('checkout.onClick needs an element');
      return () => {};
    }
    const listener = (event: Event): void => {
      // The second click of a double-click (`detail` counts the clicks in a row) is the same
      // intent: the page's handlers run again, in the flow the first click began, and the
      // details hook (which may read the form or log) runs only for a flow that begins.
      const flow =
        ((event as MouseEvent).detail > 1 && checkout.active()) ||
        checkout.begin(typeof getDetails === 'function' ? safely('the getDetails hook', () => getDetails(event)) : undefined);
      if (typeof onFlow === 'function') safely('the onFlow hook', () => onFlow(flow));
    };
    // Capture phase (`true`): the flow exists before the page's own click handlers call the SDK.
    target.addEventListener('click', listener, true);
    return () => target.removeEventListener('click', listener, true);
  },

  resume: (options?: ResumeOptions): Promise<CheckoutFlow> =>
    entry('checkout.resume', (runtime) => runtime.resume(options).catch((): CheckoutFlow => NOOP_FLOW), Promise.resolve(NOOP_FLOW)),

  // The last open flow: a read that cannot throw.
  active: (): CheckoutFlow | undefined => current?.active(),
};
