/**
 * The HA-manager faults and actions as a scenario writes them (issue 16): which targets can do
 * them, where they may be aimed, one cut per node at a time (a partition and a cut from the DCS
 * both clear on heal), and the builders producing what validation accepts.
 */
import { describe, expect, it } from "vitest";
import {
  dcsOutage,
  dcsPartition,
  defineScenario,
  failover,
  killProcess,
  maintenance,
  patroniCluster,
  pauseProcess,
  role,
  selectOne,
  trackedWrites,
} from "../../harness/index.ts";
import { FAULT_CATALOG } from "../../harness/fault/catalog.ts";
import { validateScenario } from "../../harness/scenario/validate.ts";
import { refusedOnce } from "../fixtures/refused.ts";

const patroni = { kind: "patroni", ttl: 10, loop_wait: 2, retry_timeout: 4 };
const pair = { kind: "container-pair" };

function scenario(target: object, schedule: unknown[]) {
  return { name: "x", target, probes: [{ kind: "writes" }], steadyState: { window: "1s" }, duration: "40s", schedule };
}

const refused = refusedOnce;

describe("HA-manager faults and actions", () => {
  it("are built by the builders into a scenario validation accepts", () => {
    const input = defineScenario({
      name: "patroni-everything",
      target: patroniCluster({ ttl: 10, loop_wait: 2, retry_timeout: 4 }),
      probes: [selectOne(), trackedWrites(), role()],
      steadyState: { window: "2s" },
      schedule: [
        { at: "2s", fault: killProcess("primary", "postgres") },
        { at: "6s", for: "5s", fault: pauseProcess("pg2", "ha-manager") },
        { at: "12s", for: "5s", fault: dcsOutage({ members: "all" }) },
        { at: "18s", for: "3s", fault: dcsPartition("pg3") },
        { at: "22s", action: maintenance("pause") },
        { at: "23s", action: maintenance("resume") },
        { at: "25s", action: failover("pg2") },
      ],
      duration: "40s",
    });
    const parsed = validateScenario(input, "s");
    expect(parsed.schedule.map((step) => ("fault" in step ? step.fault.kind : "action" in step ? step.action.kind : "manual"))).toEqual([
      "kill-process",
      "pause-process",
      "dcs-outage",
      "dcs-partition",
      "maintenance",
      "maintenance",
      "failover",
    ]);
    expect(parsed.schedule[2]).toMatchObject({ fault: { kind: "dcs-outage", members: "all" } });
  });

  it("a dcs-outage defaults to a majority of the members, and is labelled so", () => {
    const parsed = validateScenario(scenario(patroni, [{ at: "2s", for: "5s", fault: { kind: "dcs-outage" } }]), "s");
    const fault = (parsed.schedule[0] as { fault: { kind: "dcs-outage"; members: "majority" | "all" } }).fault;
    expect(fault.members).toBe("majority");
    expect(FAULT_CATALOG["dcs-outage"].label(fault)).toBe("DCS down (a majority of members killed)");
    expect(FAULT_CATALOG["kill-process"].label({ kind: "kill-process", node: "pg1", process: "ha-manager" })).toBe(
      "kill the HA manager on pg1 (SIGKILL)",
    );
  });

  it("are refused on a target without an HA manager, naming what it can do", () => {
    const refusal = refused(scenario(pair, [{ at: "2s", fault: { kind: "dcs-outage" } }]));
    expect(refusal.message).toMatch(
      /schedule\[0\]\.fault\.kind: the container-pair target cannot do "dcs-outage"\. Use one of kill, stop, pause, partition, netem, destroy-data, drop-table, truncate-table, corrupt-file, command/,
    );
    expect(refused(scenario(pair, [{ at: "2s", action: { kind: "maintenance", mode: "pause" } }])).message).toMatch(
      /cannot do "maintenance"\. Use one of backup, restore, promote, heal/,
    );
  });

  it("name the node and the process they aim at", () => {
    expect(refused(scenario(patroni, [{ at: "2s", fault: { kind: "kill-process", node: "pg9", process: "postgres" } }])).message).toMatch(
      /schedule\[0\]\.fault\.node: unknown node "pg9"\. The patroni target's nodes are primary, replica, pg1, pg2, pg3/,
    );
    expect(refused(scenario(patroni, [{ at: "2s", fault: { kind: "kill-process", node: "pg1", process: "patroni" } }])).message).toMatch(
      /schedule\[0\]\.fault\.process/,
    );
    expect(refused(scenario(patroni, [{ at: "2s", action: { kind: "failover", to: "primary" } }])).message).toMatch(
      /schedule\[0\]\.action\.to: cannot fail over to "primary"/,
    );
  });

  it("refuse a cut from the DCS on a node a partition already holds: healing one would heal both", () => {
    const refusal = refused(
      scenario(patroni, [
        { at: "2s", for: "10s", fault: { kind: "partition", isolate: "pg2" } },
        { at: "4s", for: "2s", fault: { kind: "dcs-partition", node: "pg2" } },
      ]),
    );
    expect(refusal.message).toMatch(/schedule\[1\]\.fault\.node: "pg2" is already cut off by schedule\[0\] until 12\.00 s/);
  });
});
