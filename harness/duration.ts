/**
 * Durations in scenarios are written the way people say them ("20ms", "3s", "1.5m") or as a
 * number of milliseconds. Everything inside the harness works in milliseconds.
 */
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/;

export type Duration = string | number;

/** Parses a duration to milliseconds, or returns an error message that says what is accepted. */
export function parseDuration(value: unknown): { ok: true; ms: number } | { ok: false; message: string } {
  if (typeof value === "number") {
    if (Number.isFinite(value) && value >= 0) return { ok: true, ms: value };
    return { ok: false, message: `must be a non-negative number of milliseconds, got ${String(value)}` };
  }
  if (typeof value !== "string") {
    return { ok: false, message: `must be a duration like "500ms", "3s" or "2m", got ${typeof value}` };
  }
  const match = DURATION.exec(value);
  if (!match) {
    return { ok: false, message: `must be a duration like "500ms", "3s" or "2m", got "${value}"` };
  }
  return { ok: true, ms: Number(match[1]) * UNIT_MS[match[2]!]! };
}

/** Parses a duration that is known to be valid (validated by the scenario schema already). */
export function toMs(value: Duration): number {
  const parsed = parseDuration(value);
  if (!parsed.ok) throw new Error(`invalid duration: ${parsed.message}`);
  return parsed.ms;
}

/** "1234.5" ms → "1.23 s"; for people, not for machines. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "n/a";
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(1)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}
