/**
 * A probe's latency objective (`slo`): refused where the scenario is read when it cannot work
 * (0, or past the probe's timeout), named on role probes, and recorded in run-start so the
 * checkers read it from the History alone.
 */
import { describe, expect, it } from "vitest";
import { InputError } from "../../harness/errors.ts";
import { eventProblem as problemWith } from "../../harness/history/validate.ts";
import { probeRecord } from "../../harness/probe/index.ts";
import { validateScenario } from "../../harness/scenario/validate.ts";
import { TARGET_OBSERVATIONS } from "../../harness/targets/registry.ts";
import { history } from "../fixtures/histories/builder.ts";

const eventProblem = (value: unknown) => problemWith(value, TARGET_OBSERVATIONS);

const withProbes = (probes: unknown[]) => ({ name: "x", target: { kind: "container-pair" }, probes, duration: "10s" });

function refusal(probes: unknown[]): string {
  try {
    validateScenario(withProbes(probes), "s.yaml");
  } catch (error) {
    expect(error).toBeInstanceOf(InputError);
    return (error as InputError).message;
  }
  throw new Error("expected the scenario to be refused");
}

describe("a probe's slo", () => {
  it("is accepted on select1 and writes probes, up to their timeout", () => {
    const scenario = validateScenario(withProbes([{ kind: "select1", slo: "1s" }, { kind: "writes", timeout: "2s", slo: "2s" }]), "s.yaml");
    expect(scenario.probes.map((probe) => (probe.kind === "role" ? null : probe.slo))).toEqual(["1s", "2s"]);
  });

  it("is refused past the probe's timeout, naming the field and the fix", () => {
    expect(refusal([{ kind: "select1", timeout: "500ms", slo: "1s" }])).toBe(
      's.yaml: probes[0].slo: must be at most the probe\'s timeout ("500ms"), got "1s". Lower slo, or raise timeout: an operation past its timeout fails, so a longer objective could never be missed.',
    );
    // The default timeout (1s) counts too.
    expect(refusal([{ kind: "writes", slo: "1500ms" }])).toMatch(/probes\[0\]\.slo: must be at most the probe's timeout \("1s"\)/);
  });

  it("is refused at 0", () => {
    expect(refusal([{ kind: "select1", slo: 0 }])).toMatch(/probes\[0\]\.slo: must be longer than 0, got 0\. Give the latency a client can accept, e\.g\. slo: "1s"/);
  });

  it("is an unknown key on a role probe, whose operations availability does not count", () => {
    expect(refusal([{ kind: "select1" }, { kind: "role", slo: "1s" }])).toMatch(/probes\[1\]/);
  });

  it("is recorded in run-start with the probe's name, type, cadence (ms) and client path (driver included)", () => {
    const probes = [{ kind: "select1", every: "50ms", timeout: "500ms", slo: "200ms" }, { kind: "writes", name: "w", driver: "libpq" }, { kind: "role" }];
    const scenario = validateScenario(withProbes(probes), "s.yaml");
    expect(scenario.probes.map(probeRecord)).toEqual([
      { name: "select1", type: "select1", everyMs: 50, timeoutMs: 500, sloMs: 200, endpoint: "rw", connection: "fresh", driver: "node-postgres" },
      { name: "w", type: "write", everyMs: 100, timeoutMs: 1000, endpoint: "rw", connection: "held", driver: "libpq" },
      { name: "role", type: "role", everyMs: 200, timeoutMs: 500 },
    ]);
  });

  it("run-start's probe records pass the History's validation, and a malformed one is refused", () => {
    const [good] = history().start({ probes: [{ name: "select1", type: "select1", everyMs: 50, timeoutMs: 500, sloMs: 200 }] }).events;
    expect(eventProblem(good)).toBeNull();
    const [old] = history().start().events;
    expect(eventProblem(old)).toBeNull();
    expect(eventProblem({ ...good!, probes: [{ name: "select1", type: "select1", everyMs: 50, timeoutMs: "500ms" }] })).toMatch(/probes/);
  });
});
