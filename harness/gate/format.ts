/** How a gate's numbers read in messages: the verdict's reason and every report. */

/** A gate's actual value: integers as they are, fractions to 4 decimals; null → "not measured". */
export function formatActual(value: number | null): string {
  if (value === null) return "not measured";
  return Number.isInteger(value) ? String(value) : String(Number(value.toFixed(4)));
}
