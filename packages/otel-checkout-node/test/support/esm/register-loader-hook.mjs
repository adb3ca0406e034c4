// OpenTelemetry's ESM loader hook, as an ESM application registers it (`node --import`):
// instrumentations then see packages the application imports. TypeScript sources of this
// repository (loaded by tsx in tests) are left alone.
import { register } from 'node:module';

register('@opentelemetry/instrumentation/hook.mjs', import.meta.url, { data: { exclude: [/\.ts$/] } });
