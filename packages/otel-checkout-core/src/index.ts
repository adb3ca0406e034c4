// Public surface of @otel-checkout/core. Every export is named; keep each section to its owner file.

// --- flow token format (flow-token.ts) ---

// --- canary cohort (cohort.ts) ---

// --- redaction rules (redaction/*.ts) ---

export {};
