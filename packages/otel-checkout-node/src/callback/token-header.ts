/**
 * The request header the callback middleware reads a flow token from unless its `header`
 * option names another. The redaction processor treats it as a sensitive name, so a recorded
 * copy of the header (`http.request.header.x-otc-flow`) does not export the token.
 */
export const DEFAULT_TOKEN_HEADER = 'x-otc-flow';

/** Names beyond the built-in ones are few (one or two per callback route): a bound all the same. */
const MAX_TOKEN_NAMES = 64;

const tokenNames = new Set<string>([DEFAULT_TOKEN_HEADER]);
let version = 0;

/**
 * Names under which callbacks receive flow tokens: the default header, and each callback's
 * own `header`, `bodyFields` and `passbackField` (their last segment: `metadata.shop_ref` →
 * `shop_ref`), recorded as callbacks run. The redaction processor treats them as sensitive
 * names, so a recorded header (`http.request.header.x-acme-ref`) or body
 * (`{"shop_ref":"..."}`) does not export the token.
 */
export function rememberTokenNames(header: unknown, bodyFields: unknown, passbackField: unknown): void {
  addName(header);
  if (Array.isArray(bodyFields)) for (const field of bodyFields as unknown[]) addName(lastSegment(field));
  addName(lastSegment(passbackField));
}

/** The names so far, and a version that changes whenever a name is added. */
export function tokenNamesSnapshot(): { names: readonly string[]; version: number } {
  return { names: [...tokenNames], version };
}

/** The version alone: one comparison per span. */
export function tokenNamesVersion(): number {
  return version;
}

function addName(name: unknown): void {
  if (typeof name !== 'string' || name.length === 0 || tokenNames.has(name) || tokenNames.size >= MAX_TOKEN_NAMES) return;
  tokenNames.add(name);
  version++;
}

function lastSegment(path: unknown): string | undefined {
  if (typeof path !== 'string') return undefined;
  return path.slice(path.lastIndexOf('.') + 1);
}
