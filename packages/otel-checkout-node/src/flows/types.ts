import type { FlowStore } from '../flow-store/types.js';
import type { StalledSweeperOptions } from '../sweeper/stalled-sweeper.js';
import type { FlowTokenKeys } from '../token/types.js';

/** A callback deadline rule: the first rule whose provider and method match (absent = any) applies. */
export interface FlowDeadlineRule {
  provider?: string;
  method?: string;
  /** Seconds from "redirect issued" until the flow counts as stalled. */
  seconds: number;
}

/** Callback deadlines: one number of seconds for every flow, or rules per provider and method. */
export type FlowDeadlines = number | { default?: number; rules?: readonly FlowDeadlineRule[] };

/** Options for flow tokens, the flow store and the stalled sweeper (see the package README). */
export interface FlowsOptions {
  /** HMAC keys for flow tokens (current + previous for rotation). Default: none, so no tokens are minted (URLs unchanged, store-only correlation). */
  keys?: FlowTokenKeys;
  /** Query parameter that carries the token in return and notify URLs. Default `otc_flow`. */
  tokenParam?: string;
  /** Maximum age of a token arriving on a provider callback, seconds. Default 172800 (48 hours). */
  callbackMaxAgeSeconds?: number;
  /** Maximum age of a token arriving on a return URL (the verify handler, the meta helper), seconds. Default 1800. */
  returnMaxAgeSeconds?: number;
  /** Clock skew allowed between the minting and the verifying process, seconds. Default 60. */
  clockSkewSeconds?: number;
  /** Where flows wait for their callback; `false` for token-only correlation and no stalled detection. Default: a `MemoryFlowStore`. */
  store?: FlowStore | false;
  /** Time from "redirect issued" until a flow without a callback is stalled. Default 1800 seconds. */
  deadlines?: FlowDeadlines;
  /** The stalled sweeper, started by `start()`; `false` to run none in this process. Default: enabled, see `StalledSweeperOptions`. */
  sweeper?: StalledSweeperOptions | false;
}
