// Public surface of @otel-checkout/web.
export {};
