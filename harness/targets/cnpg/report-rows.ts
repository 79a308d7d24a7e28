/**
 * The cnpg target's rows of the reports' key metrics: what Kubernetes said (the Cluster's status,
 * the pods' labels, the primary Lease, the rw Service's EndpointSlices), beside what clients saw.
 * Pure, like the plugin that names it: every report format draws these rows as they are.
 */
import { formatMs } from "../../duration.ts";
import type { Metrics } from "../../result.ts";
import type { ReportRow } from "../plugin.ts";

export function operatorRows({ operator }: Metrics): ReportRow[] {
  if (!operator.observed) return [];
  const afterFault = (ms: number) => `${formatMs(ms)} after the first fault`;
  const { promotedAfterMs, newPrimary } = operator;
  const promoted = promotedAfterMs === null ? "no promotion seen" : `${afterFault(promotedAfterMs)} → ${newPrimary ?? "?"}`;
  const rows: ReportRow[] = [
    { label: "operator promoted", value: promoted },
    { label: "targetPrimary pending", value: formatMs(operator.pendingMs) },
    { label: "no pod labelled primary", value: formatMs(operator.noPrimaryLabelMs) },
    {
      label: "two pods labelled primary (label overlap, not a split brain)",
      value: operator.multiplePrimaryLabelsMs > 0 ? formatMs(operator.multiplePrimaryLabelsMs) : "never",
    },
  ];
  if (operator.leaseAcquiredAfterMs !== null) {
    const how = operator.leaseReleased
      ? "released by the old holder first"
      : "while still held: the candidate waited leaseDurationSeconds out";
    rows.push({ label: "primary Lease taken", value: `${afterFault(operator.leaseAcquiredAfterMs)}, ${how}` });
  }
  if (operator.rwObserved) {
    const moved = operator.rwMovedAfterMs === null ? "not seen" : `${afterFault(operator.rwMovedAfterMs)} (EndpointSlices)`;
    // Two ready endpoints send writes to two servers: set off, as a split brain is.
    const two = operator.multipleRwEndpointsMs ? [{ text: formatMs(operator.multipleRwEndpointsMs), strong: true, bad: true }] : "never";
    rows.push(
      { label: "rw Service routed to the new primary", value: moved },
      { label: "rw Service with no ready endpoint", value: formatMs(operator.noRwEndpointMs) },
      { label: "rw Service with two ready endpoints", value: two },
    );
  }
  if (operator.resyncs > 0) {
    rows.push({ label: "watch resyncs", value: `${operator.resyncs} observations made by listing again after a watch broke` });
  }
  return rows;
}
