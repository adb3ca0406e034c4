import { MemoryFlowStore } from '../../src/index.js';
import type { FlowStore } from '../../src/index.js';

/**
 * A store as an application writes one: only the required operations of `FlowStore` (none of
 * the optional `keepWaiting`, `health`, `addEvictionListener`), kept in a memory store underneath;
 * `overrides` replaces some of them.
 */
export function customFlowStore(overrides: Partial<FlowStore> = {}, memory = new MemoryFlowStore()): FlowStore {
  return {
    put: (record, deadline) => memory.put(record, deadline),
    take: (tradeNo) => memory.take(tradeNo),
    claimExpired: (now, limit, leaseMs) => memory.claimExpired(now, limit, leaseMs),
    ack: (tradeNos) => memory.ack(tradeNos),
    size: () => memory.size(),
    close: () => memory.close(),
    ...overrides,
  };
}
