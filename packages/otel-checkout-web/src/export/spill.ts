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

/**
 * Keeps `bodies` for the next page, in one storage write; returns how many spans could not be
 * kept (storage unavailable or the spill full).
 */
export function spill(bodies: readonly { body: string; count: number }[], now: number): number {
  let lost = 0;
  try {
    const kept = read();
    let used = kept.reduce((sum, s) => sum + s.body.length, 0);
    for (const { body, count } of bodies) {
      if (used + body.length > MAX_SPILL_CHARS) lost += count;
      else {
        kept.push({ at: now, count, body });
        used += body.length;
      }
    }
    sessionStorage.setItem(SPILL_KEY, JSON.stringify(kept));
    return lost;
  } catch {
    return bodies.reduce((sum, b) => sum + b.count, 0);
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
