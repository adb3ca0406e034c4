// Test helpers shared by the otel-checkout packages.
export {};
