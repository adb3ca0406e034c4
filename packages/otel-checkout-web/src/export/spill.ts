/**
 * What the leaving page could not hand to the browser. Chromium counts keepalive bodies and
 * beacons against one 64 KiB quota, so a page that leaves with more queued cannot send the
 * rest. It keeps those request bodies in sessionStorage instead; the next page of this origin
 * in this tab (the return page, after the bank) sends them when tracing starts there.
 */
const SPILL_KEY = 'otc.spill';
/** Bytes kept at most (sessionStorage holds about 5 MB per origin, shared with the application). */
const MAX_SPILL_CHARS = 512_000;
/** Older spilled bodies are not worth sending. */
const MAX_SPILL_AGE_MILLIS = 3_600_000;

interface Spilled {
  at: number;
  count: number;
  body: string;
}

function read(): Spilled[] {
  try {
    const text = sessionStorage.getItem(SPILL_KEY);
    const parsed: unknown = text === null ? [] : JSON.parse(text);
    return Array.isArray(parsed) ? (parsed as Spilled[]).filter((s) => typeof s?.body === 'string' && typeof s.count === 'number' && typeof s.at === 'number') : [];
  } catch {
    return [];
  }
}

/** Keeps `body` for the next page; false when storage is unavailable or the spill is full. */
export function spill(body: string, count: number, now: number): boolean {
  try {
    const kept = read();
    const used = kept.reduce((sum, s) => sum + s.body.length, 0);
    if (used + body.length > MAX_SPILL_CHARS) return false;
    kept.push({ at: now, count, body });
    sessionStorage.setItem(SPILL_KEY, JSON.stringify(kept));
    return true;
  } catch {
    return false;
  }
}

/** Takes what an earlier page of this tab left (once), dropping what is too old. */
export function takeSpilled(now: number): { body: string; count: number }[] {
  const kept = read();
  if (kept.length === 0) return [];
  try {
    sessionStorage.removeItem(SPILL_KEY);
  } catch {
    return [];
  }
  return kept.filter((s) => now - s.at <= MAX_SPILL_AGE_MILLIS);
}
