/** Small number formatters shared by the renderers: for people, not for machines. */
import { toRanges } from "../history/events.ts";

export { formatMs } from "../duration.ts";
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
