/**
 * "Did you mean": the candidate nearest to what was written, when it is near enough to be a typo
 * (zx and vitest name the option you meant). Shared by the scenario validation and the gate.
 */

/** The candidate nearest to `word` by edit distance (case-insensitive), or null if none is close. */
export function closest(word: string, candidates: Iterable<string>): string | null {
  const limit = word.length >= 4 ? 2 : 1;
  let best: { candidate: string; distance: number } | null = null;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (!best || distance < best.distance) best = { candidate, distance };
  }
  if (best && best.distance <= limit) return best.candidate;
  // A dropped or added suffix ("failover.latency" for "failover.latencyMs") is further than two
  // edits but still plainly the same name.
  const lower = word.toLowerCase();
  const extended = [...candidates].filter((candidate) => {
    const other = candidate.toLowerCase();
    return lower.length >= 4 && other !== lower && (other.startsWith(lower) || lower.startsWith(other));
  });
  return extended.length === 1 ? extended[0]! : null;
}

/**
 * Edit distance counting an insertion, a deletion, a substitution or a swap of two neighbours as
 * one edit each (optimal string alignment): "fro" is one edit from "for", as a typist sees it.
 */
export function editDistance(a: string, b: string): number {
  const rows = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i += 1) {
    for (let j = 1; j <= b.length; j += 1) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(rows[i - 1]![j]! + 1, rows[i]![j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, rows[i - 2]![j - 2]! + 1);
      rows[i]![j] = best;
    }
  }
  return rows[a.length]![b.length]!;
}
