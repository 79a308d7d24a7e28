/** Small number formatters shared by the renderers: for people, not for machines. */
import { formatMs } from "../duration.ts";
import { toRanges } from "../history/events.ts";
import type { ClientRow } from "./types.ts";

export { formatMs };
/** The gate's own formatter, so a report shows an actual value as the verdict's reason does. */
export { formatActual } from "../gate/format.ts";

/** 0.97312 → "97.31%"; null → "n/a". */
export function formatRatio(ratio: number | null | undefined): string {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return "n/a";
  return `${(ratio * 100).toFixed(2)}%`;
}

export function formatCount(value: number | null | undefined): string {
  return value === null || value === undefined ? "n/a" : String(value);
}

/**
 * Ids as compact ranges, "3–7, 12, 15–16", capped at `limit` ranges with "… and N more".
 * Lost writes tend to come in runs, so ranges keep a long list short.
 */
export function formatIds(ids: readonly number[], limit: number): string {
  if (ids.length === 0) return "none";
  const ranges = toRanges(ids);
  const shown = ranges.slice(0, limit);
  const text = shown.map(([from, to]) => (from === to ? String(from) : `${from}–${to}`)).join(", ");
  const hidden = ranges.slice(limit).reduce((sum, [from, to]) => sum + (to - from + 1), 0);
  return hidden > 0 ? `${text}, … and ${hidden} more` : text;
}

/**
 * A measured duration with the range its edges allow, "2.98 s +50.0 ms/−3.2 ms" (or "±50.0 ms"
 * when the range is even either side; the bare duration when it is exact).
 */
export function formatMsWithin(
  ms: number | null | undefined,
  lowerMs: number | null | undefined,
  upperMs: number | null | undefined,
): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return "n/a";
  const plus = upperMs === null || upperMs === undefined ? 0 : Math.max(0, upperMs - ms);
  const minus = lowerMs === null || lowerMs === undefined ? 0 : Math.max(0, ms - lowerMs);
  if (plus < 0.05 && minus < 0.05) return formatMs(ms);
  if (Math.abs(plus - minus) <= 0.1 * Math.max(plus, minus)) return `${formatMs(ms)} ±${formatMs(Math.max(plus, minus))}`;
  return `${formatMs(ms)} +${plus < 0.05 ? "0" : formatMs(plus)}/−${minus < 0.05 ? "0" : formatMs(minus)}`;
}

/** A ratio with its range, "70.21% (69.73–70.40%)"; the bare ratio when the range is empty or unknown. */
export function formatRatioWithin(
  ratio: number | null | undefined,
  lower: number | null | undefined,
  upper: number | null | undefined,
): string {
  const text = formatRatio(ratio);
  if (lower === null || lower === undefined || upper === null || upper === undefined || !Number.isFinite(lower) || !Number.isFinite(upper))
    return text;
  if (upper - lower < 0.00005) return text;
  return `${text} (${(lower * 100).toFixed(2)}–${formatRatio(upper)})`;
}

/**
 * One client path in a line: "select1-pgjdbc (pgjdbc; rw, fresh connections): down 5.10 s, served again 6.02 s after the fault,
 * 3 hung past timeout".
 */
export function clientLine(client: ClientRow): string {
  const extras = [
    client.hung > 0 ? `${client.hung} hung past timeout` : "",
    client.readOnly > 0 ? `${client.readOnly} refused read-only` : "",
  ].filter(Boolean);
  const recovered =
    client.recovered === "—"
      ? ""
      : client.recovered === "no outage"
        ? ", no outage after the fault"
        : `, served again ${client.recovered} after the fault`;
  return `${client.probe} (${client.driver}; ${client.via}): down ${client.downtime}${recovered}${extras.map((x) => `, ${x}`).join("")}`;
}
