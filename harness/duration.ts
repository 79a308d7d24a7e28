/**
 * Durations in scenarios are written the way people say them: "20ms", "3s", "1.5m", or compound
 * like "1m30s" (units h, m, s, ms, largest first, each once; a decimal only in a single-unit
 * form). A bare number is refused, except 0: `duration: 30` used to mean 30 ms, which nobody who
 * wrote it meant. Everything inside the harness works in milliseconds.
 */
const UNIT_MS = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 } as const;
export type DurationUnit = keyof typeof UNIT_MS;
const UNITS = Object.keys(UNIT_MS) as DurationUnit[];

/**
 * A duration as a scenario may write it, for TypeScript users (`ScenarioInput`). The compiler
 * cannot see digits, so `${number}` lets through what the runtime check still refuses ("-1s",
 * "1e3ms", "1 s"); the runtime check, parseDuration, stays the source of truth.
 */
export type DurationText =
  | 0
  | `${number}${DurationUnit}`
  | `${number}h${number}m`
  | `${number}h${number}s`
  | `${number}h${number}ms`
  | `${number}m${number}s`
  | `${number}m${number}ms`
  | `${number}s${number}ms`
  | `${number}h${number}m${number}s`
  | `${number}h${number}m${number}ms`
  | `${number}h${number}s${number}ms`
  | `${number}m${number}s${number}ms`
  | `${number}h${number}m${number}s${number}ms`;

/**
 * A duration inside the harness: validated text, or milliseconds. Numbers stay accepted here
 * because scenario.json files of older runs, and code that plans in milliseconds, hold them.
 */
export type Duration = string | number;

/**
 * The grammar parseDuration accepts, as one regular expression, so the JSON Schema can give
 * editors the same rule: a single unit with an optional decimal, or integer parts in the order
 * h, m, s, ms (the lookahead refuses the empty string). Kept in step with parseDuration by a test.
 */
export const DURATION_PATTERN = /^(?:\d+\.\d+(?:ms|h|m|s)|(?=\d)(?:\d+h)?(?:\d+m)?(?:\d+s)?(?:\d+ms)?)$/;
/** The same, longer than 0: a nonzero digit somewhere. */
export const POSITIVE_DURATION_PATTERN = new RegExp(`^(?=[^1-9]*[1-9])${DURATION_PATTERN.source.slice(1)}`);

const SINGLE = /^(\d+(?:\.\d+)?)(ms|h|m|s)$/;
const PART = /(\d+)(ms|h|m|s)/g;

export type ParsedDuration = { ok: true; ms: number } | { ok: false; message: string; fix: string };

const LIKE = 'like "500ms", "3s" or "1m30s"';
const SEE = "See the README's scenario section.";

/**
 * Parses a scenario's duration to milliseconds, or says what is wrong (`message`, which always
 * starts with "must be") and what to write instead (`fix`). Never throws.
 */
export function parseDuration(value: unknown): ParsedDuration {
  if (typeof value === "number") return parseNumber(value);
  if (typeof value !== "string") return refuse(`must be a duration ${LIKE}, got ${describe(value)}`, SEE);
  const single = SINGLE.exec(value);
  if (single) return finite(Number(single[1]) * UNIT_MS[single[2] as DurationUnit], value);
  if (DURATION_PATTERN.test(value)) {
    let ms = 0;
    for (const [, amount, unit] of value.matchAll(PART)) ms += Number(amount) * UNIT_MS[unit as DurationUnit];
    return finite(ms, value);
  }
  return explain(value);
}

/**
 * Parses a duration that is known to be valid (validated by the scenario schema already), or a
 * number of milliseconds (older runs' scenario.json, plans computed in code).
 */
export function toMs(value: Duration): number {
  if (typeof value === "number") {
    if (Number.isFinite(value) && value >= 0) return value;
    throw new Error(`invalid duration: must be a non-negative number of milliseconds, got ${String(value)}`);
  }
  const parsed = parseDuration(value);
  if (!parsed.ok) throw new Error(`invalid duration: ${parsed.message}`);
  return parsed.ms;
}

/** Milliseconds as a duration a scenario may hold: 90000 → "1m30s", 1500.5 → "1500.5ms", 0 → "0s". */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`not a duration: ${ms} ms`);
  if (!Number.isInteger(ms)) return `${ms}ms`;
  if (ms === 0) return "0s";
  let rest = ms;
  let text = "";
  for (const unit of UNITS) {
    const amount = Math.floor(rest / UNIT_MS[unit]);
    if (amount > 0) text += `${amount}${unit}`;
    rest -= amount * UNIT_MS[unit];
  }
  return text;
}

/** "1234.5" ms → "1.23 s"; for people, not for machines. */
export function formatMs(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "n/a";
  if (ms < 1) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(1)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(2)} s`;
  return `${(ms / 60_000).toFixed(1)} min`;
}

// ---- Refusals that say what to write ---------------------------------------------------------

function parseNumber(value: number): ParsedDuration {
  if (value === 0) return { ok: true, ms: 0 };
  if (!Number.isFinite(value) || value < 0) return refuse(`must be a duration ${LIKE}, got ${String(value)}`, SEE);
  return bareNumber(value);
}

function bareNumber(value: number): ParsedDuration {
  return refuse(
    `must be a duration with a unit like "30s" or "500ms"; a bare number (${value}) has no unit`,
    `Write "${formatDuration(value)}" if you meant ${value} milliseconds (what a bare number used to mean), or "${value}s" for seconds.`,
  );
}

function finite(ms: number, value: string): ParsedDuration {
  if (Number.isFinite(ms)) return { ok: true, ms: roundMicros(ms) };
  return refuse(`must be a duration ${LIKE}, got "${value}", which is too long to count in milliseconds`, SEE);
}

// 1.1 * 1000 is 1100.0000000000002 in floating point; nobody writes durations finer than a microsecond.
function roundMicros(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** Unit names people write that mean one of ours. */
const ALIASES: Record<string, DurationUnit | "d"> = {
  ms: "ms",
  msec: "ms",
  msecs: "ms",
  millis: "ms",
  millisecond: "ms",
  milliseconds: "ms",
  s: "s",
  sec: "s",
  secs: "s",
  second: "s",
  seconds: "s",
  m: "m",
  min: "m",
  mins: "m",
  minute: "m",
  minutes: "m",
  h: "h",
  hr: "h",
  hrs: "h",
  hour: "h",
  hours: "h",
  d: "d",
  day: "d",
  days: "d",
};

/** Why a string is not a duration, as precisely as can be said, and what to write instead. */
function explain(value: string): ParsedDuration {
  const got = `got "${value}"`;
  const trimmed = value.trim();
  if (/^-\s*\d/.test(trimmed)) return refuse(`must be a duration ${LIKE}, not negative; ${got}`, SEE);
  if (/^\d+(?:\.\d+)?$/.test(trimmed))
    return Number(trimmed) === 0
      ? refuse(`must be a duration ${LIKE}, or the number 0; ${got}`, 'Write "0s".')
      : bareNumber(Number(trimmed));
  // Read it leniently (spaces, long unit names, any order) to say exactly what to change.
  const parts = [...trimmed.matchAll(/(\d+(?:\.\d+)?)\s*([a-zA-Z]+)\s*/g)];
  const covered = parts.map((part) => part[0]).join("") === trimmed && parts.length > 0;
  if (!covered) return refuse(`must be a duration ${LIKE}, ${got}`, SEE);
  let ms = 0;
  const units: Array<DurationUnit | "d"> = [];
  for (const [, amount, written] of parts) {
    const unit = ALIASES[written!.toLowerCase()];
    if (unit === undefined) return refuse(`must be a duration ${LIKE}; "${written}" is not a unit (use h, m, s or ms), ${got}`, SEE);
    units.push(unit);
    ms += Number(amount) * (unit === "d" ? 24 * UNIT_MS.h : UNIT_MS[unit]);
  }
  const instead = `Write "${formatDuration(roundMicros(ms))}".`;
  const reasons: string[] = [];
  if (/\s/.test(value)) reasons.push("without spaces");
  if (parts.some(([, , written]) => !UNITS.includes(written as DurationUnit))) reasons.push("with the units h, m, s and ms");
  const ranks = units.map((unit) => (unit === "d" ? -1 : UNITS.indexOf(unit)));
  if (ranks.some((rank, i) => i > 0 && rank <= ranks[i - 1]!)) reasons.push("with each unit once, largest first");
  if (parts.length > 1 && parts.some(([, amount]) => amount!.includes(".")))
    reasons.push('with a decimal only in a single-unit form like "1.5s"');
  return refuse(`must be a duration written ${reasons.join(", ") || LIKE}, ${got}`, instead);
}

function refuse(message: string, fix: string): ParsedDuration {
  return { ok: false, message, fix };
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  return `${typeof value} ${String(value)}`;
}
