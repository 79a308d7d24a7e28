import { describe, expect, it } from "vitest";
import { iptablesCommands } from "../../harness/targets/shared/iptables.ts";

describe("iptables rules for network cuts", () => {
  it("isolates a node from everything but loopback", () => {
    const script = iptablesCommands.cut("all", "both");
    expect(script).toContain("iptables -w -A PGDRILL-IN ! -i lo -j DROP");
    expect(script).toContain("iptables -w -A PGDRILL-OUT ! -o lo -j DROP");
  });

  it("drops only inbound traffic from the peer for a one-way cut", () => {
    const script = iptablesCommands.cut("172.18.0.3", "inbound");
    expect(script).toContain("-A PGDRILL-IN -s 172.18.0.3 -j DROP");
    expect(script).not.toContain("-A PGDRILL-OUT");
  });

  it("heals by flushing only pgdrill's own chains", () => {
    const script = iptablesCommands.heal();
    expect(script).toContain("iptables -w -F PGDRILL-IN");
    expect(script).toContain("iptables -w -F PGDRILL-OUT");
    expect(script).not.toMatch(/-F INPUT|-F OUTPUT|-F\s*$/m);
  });
});
