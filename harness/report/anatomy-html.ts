/**
 * report.html's anatomy of a failover: one horizontal stacked bar per client path, detection →
 * promotion → that client's recovery, all on one scale, so the paths compare at a glance (a
 * pooled client's longer wait shows as a longer last segment). checker/anatomy.ts measures the
 * phases; this only draws the model's anatomy, in plain HTML with inline widths (no chart library needed).
 */
import { formatMs } from "../duration.ts";
import type { AnatomyClient, Metrics } from "../result.ts";
import { escapeHtml as e, swatch } from "./html-parts.ts";
import type { ReportModel } from "./types.ts";

export const ANATOMY_COLORS = { detection: "#ff7f0e", promotion: "#1f77b4", readOnly: "#9467bd", recovery: "#2ca02c" } as const;
type Phase = keyof typeof ANATOMY_COLORS;
const PHASE_LABELS: Record<Phase, string> = {
  detection: "detection",
  promotion: "promotion",
  readOnly: "promoted but read-only",
  recovery: "client recovery",
};

/**
 * A bar's segments (ms), null where the phase's edge was not observed (drawn as nothing, said as n/a);
 * the read-only phase only when the new primary was seen refusing writes (a result analysed before
 * pgdrill asked has none).
 */
export function anatomySegments(anatomy: Metrics["anatomy"], client: AnatomyClient): Partial<Record<Phase, number | null>> {
  const readOnly = anatomy.readOnlyMs ? { readOnly: anatomy.readOnlyMs } : {};
  return { detection: anatomy.detectionMs, promotion: anatomy.promotionMs, ...readOnly, recovery: client.recoveryMs };
}

const total = (segments: Partial<Record<Phase, number | null>>) =>
  Object.values(segments).reduce<number>((sum, ms) => sum + Math.max(0, ms ?? 0), 0);

export function renderAnatomyHtml(model: ReportModel): string {
  if (!model.anatomy.observed) return `<div id="anatomy"><p class="meta anatomy-none">${e(model.anatomy.why)}</p></div>`;
  const anatomy = model.anatomy.phases;

  const bars = anatomy.clients.map((client) => ({ client, segments: anatomySegments(anatomy, client) }));
  // One scale for every bar: the longest path fills the width, the others show how much sooner they were back.
  const scaleMs = Math.max(1, ...bars.map((bar) => total(bar.segments)));
  const rows = bars.map(({ client, segments }) => {
    const phases = (Object.keys(ANATOMY_COLORS) as Phase[]).filter((phase) => phase in segments);
    const parts = phases.map((phase) => {
      const ms = segments[phase] ?? null;
      const width = ((Math.max(0, ms ?? 0) / scaleMs) * 100).toFixed(2);
      const title = `${PHASE_LABELS[phase]}: ${formatMs(ms)}`;
      return (
        `<span class="anatomy-segment ${phase}" data-ms="${ms ?? ""}" title="${e(title)}" style="display: inline-block; ` +
        `height: 100%; width: ${width}%; background: ${ANATOMY_COLORS[phase]};"></span>`
      );
    });
    const figures = phases
      .map((phase) => `${swatch(ANATOMY_COLORS[phase])}${e(PHASE_LABELS[phase])} ${e(formatMs(segments[phase] ?? null))}`)
      .join(" · ");
    return (
      `<div class="anatomy-client" data-probe="${e(client.probe)}">
  <div class="anatomy-head"><strong>${e(client.probe)}</strong> <span class="meta">via ${e(client.via)} · back ` +
      `${e(formatMs(client.recoveredAfterMs))} after the fault</span></div>
  <div class="anatomy-bar" style="display: flex; height: 16px; background: #f4f4f4; border-radius: 2px; overflow: ` +
      `hidden;">${parts.join("")}</div>
  <div class="meta">${figures}</div>
</div>`
    );
  });
  const mechanism = [
    `mechanism: ${anatomy.mechanism ?? "unknown"}`,
    `detected by: ${anatomy.detectedBy ?? "not observed"}`,
    `promoted by: ${anatomy.promotedBy ?? "not observed"}${anatomy.newPrimary ? ` (${anatomy.newPrimary})` : ""}`,
    ...(anatomy.readOnlyMs ? [`writable ${formatMs(anatomy.readOnlyMs)} after its promotion`] : []),
  ].join(" · ");
  const after =
    anatomy.faultLabel === null
      ? ""
      : ` after “${anatomy.faultLabel}”${anatomy.faultAtMs === null ? "" : ` at ${formatMs(anatomy.faultAtMs)}`}`;
  const clients = rows.length > 0 ? rows.join("\n") : `<p class="meta">No client path was measured.</p>`;
  return (
    `<div id="anatomy">
<p class="anatomy-mechanism">${e(mechanism)}</p>
<p class="meta">Each bar runs from the fault${e(after)}: detection (until the HA mechanism acted), promotion (until the ` +
    `new primary was out of recovery), ${anatomy.readOnlyMs ? "promoted but read-only (until it accepted writes), " : ""}` +
    `then that client's own recovery; one scale, ${e(formatMs(scaleMs))} the longest.</p>
${clients}
</div>`
  );
}
