/** Sizes for people, as PostgreSQL's pg_size_pretty and pgBackRest print them (1 kB = 1024 bytes); not for machines. */
const UNITS = ["kB", "MB", "GB", "TB"] as const;

/** 512 → "512 bytes", 31457280 → "30.0 MB"; null → "n/a". */
export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined || !Number.isFinite(bytes)) return "n/a";
  if (Math.abs(bytes) < 1024) return `${bytes} bytes`;
  let value = bytes;
  let unit = 0;
  for (value /= 1024; Math.abs(value) >= 1024 && unit < UNITS.length - 1; unit += 1) value /= 1024;
  return `${value.toFixed(1)} ${UNITS[unit]}`;
}
