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

/** How far the clock may have been set back between the page that kept a body and the next. */
const MAX_CLOCK_STEP_BACK_MILLIS = 60_000;

interface Spilled {
  at: number;
  count: number;
  body: string;
}

/**
 * What an earlier page kept, as far as it is ours: the application shares sessionStorage, so
 * anything under the key may have been rewritten. Entries that could not have been written by
 * spill() are ignored, so they can neither inflate the health counters (a count must be a
 * whole number of spans, at least one character of body each), never expire (a time ahead of
 * now, beyond a clock set back, is not one spill() wrote), nor send more than the spill's bound.
 */
function read(now: number): Spilled[] {
  try {
    // Nothing kept (null) parses as null, which is no list either.
    const parsed: unknown = JSON.parse(sessionStorage.getItem(SPILL_KEY) as string);
    let used = 0;
    return Array.isArray(parsed)
      ? (parsed as Spilled[]).filter(
          (s) =>
            typeof s?.body === 'string' &&
            Number.isInteger(s.count) &&
            s.count > 0 &&
            s.count <= s.body.length &&
            s.at - now <= MAX_CLOCK_STEP_BACK_MILLIS &&
            (used += s.body.length) <= MAX_SPILL_CHARS,
        )
      : [];
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
    const kept = read(now);
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
  const kept = read(now);
  if (kept.length === 0) return [];
  try {
    sessionStorage.removeItem(SPILL_KEY);
  } catch {
    return [];
  }
  return kept.filter((s) => now - s.at <= MAX_SPILL_AGE_MILLIS);
}
