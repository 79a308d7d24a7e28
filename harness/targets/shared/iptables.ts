/**
 * The iptables rules behind network cuts, run inside a node's network namespace. pgdrill keeps its
 * rules in chains of its own, so healing is one flush and never touches anyone else's rules.
 */
const IN = "PGDRILL-IN";
const OUT = "PGDRILL-OUT";

const ensureChains = [
  `iptables -w -N ${IN} 2>/dev/null || true`,
  `iptables -w -N ${OUT} 2>/dev/null || true`,
  `iptables -w -C INPUT -j ${IN} 2>/dev/null || iptables -w -I INPUT -j ${IN}`,
  `iptables -w -C OUTPUT -j ${OUT} 2>/dev/null || iptables -w -I OUTPUT -j ${OUT}`,
];

export const iptablesCommands = {
  /** `peer` is an IPv4 address, or "all" for everything but loopback. */
  cut(peer: string, direction: "both" | "inbound"): string {
    const rules =
      peer === "all"
        ? [`iptables -w -A ${IN} ! -i lo -j DROP`, `iptables -w -A ${OUT} ! -o lo -j DROP`]
        : [`iptables -w -A ${IN} -s ${peer} -j DROP`, ...(direction === "both" ? [`iptables -w -A ${OUT} -d ${peer} -j DROP`] : [])];
    return ["command -v iptables >/dev/null || exit 127", "set -e", ...ensureChains, ...rules].join("\n");
  },
  heal(): string {
    return [
      "command -v iptables >/dev/null || exit 0",
      `iptables -w -F ${IN} 2>/dev/null || true`,
      `iptables -w -F ${OUT} 2>/dev/null || true`,
    ].join("\n");
  },
};
