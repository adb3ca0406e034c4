// Public surface of @otel-checkout/node. Every export is named.

// --- tracing setup, middleware, flow API, redaction, baggage ---

// --- flow tokens, callback correlation, flow stores, stalled sweeper ---

export type { HealthSnapshot } from './health.js';
