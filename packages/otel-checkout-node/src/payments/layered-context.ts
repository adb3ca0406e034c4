import type { Context } from '@opentelemetry/api';

/**
 * `parent` with `key` set to `value`, made without copying `parent`'s entries.
 *
 * OpenTelemetry's own context copies every entry into a new Map and makes three closures
 * on each `setValue`; the payment middleware derives one context per request, and that copy
 * was a fifth of what the middleware allocated. This one keeps a reference to its parent
 * and the one entry. Contexts derived from it derive from the parent and keep the entry on
 * top, so a lookup never goes deeper than the layers made here.
 */
export function contextWithValue(parent: Context, key: symbol, value: unknown): Context {
  return new LayeredContext(parent, key, value);
}

class LayeredContext implements Context {
  constructor(
    private readonly parent: Context,
    private readonly key: symbol,
    private readonly value: unknown,
  ) {}

  getValue(key: symbol): unknown {
    return key === this.key ? this.value : this.parent.getValue(key);
  }

  setValue(key: symbol, value: unknown): Context {
    if (key === this.key) return new LayeredContext(this.parent, key, value);
    return new LayeredContext(this.parent.setValue(key, value), this.key, this.value);
  }

  deleteValue(key: symbol): Context {
    // The parent may hold an older value under the same key (nested middleware): it goes too.
    if (key === this.key) return this.parent.deleteValue(key);
    return new LayeredContext(this.parent.deleteValue(key), this.key, this.value);
  }
}
