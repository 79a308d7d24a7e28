import { describe, expect, it } from "vitest";
import { clientsChecker } from "../../harness/checker/clients.ts";
import { analyzeHistory } from "../../harness/analyze.ts";
import { reportModel } from "../../harness/report/model.ts";
import { renderMarkdown } from "../../harness/report/markdown.ts";
import { renderJunit } from "../../harness/report/junit.ts";
import { formatSummary } from "../../harness/report/summary.ts";
import { history } from "../fixtures/histories/builder.ts";

/**
 * Two clients through the same failover at t = 1000: pgdrill's own driver reconnects at once (down 400 ms), pgjdbc hangs on
 * the dead socket (two operations abandoned past their timeout), then reaches a node that is promoted but still read-only.
 */
function twoClients() {
  const b = history().start({
    probes: [
      { name: "writes", type: "write", everyMs: 100, timeoutMs: 1000, endpoint: "rw", connection: "held" },
      { name: "writes-pgjdbc", type: "write", everyMs: 100, timeoutMs: 1000, endpoint: "rw", connection: "held", driver: "pgjdbc" },
    ],
  });
  b.fault(1000);
  let id = 0;
  for (const at of [0, 500, 900]) b.op("writes", "write", at, at + 5, "ok", { value: ++id });
  b.op("writes", "write", 1100, 1105, "fail", { value: ++id, error: "ECONNREFUSED connect ECONNREFUSED 10.0.0.5:5432" });
  b.op("writes", "write", 1300, 1305, "fail", { value: ++id, error: "ECONNREFUSED connect ECONNREFUSED 10.0.0.5:5432" });
  for (const at of [1500, 1600, 3000]) b.op("writes", "write", at, at + 5, "ok", { value: ++id });
  let jid = 0;
  for (const at of [0, 500, 900]) b.op("writes-pgjdbc", "write", at, at + 5, "ok", { value: ++jid });
  b.op("writes-pgjdbc", "write", 1000, 2000, "info", { value: ++jid, error: "timed out after 1000 ms", timedOut: true });
  b.op("writes-pgjdbc", "write", 2000, 3000, "info", { value: ++jid, error: "timed out after 1000 ms", timedOut: true });
  b.op("writes-pgjdbc", "write", 3000, 3005, "fail", {
    value: ++jid,
    error: "25006 ERROR: cannot execute INSERT in a read-only transaction",
    sqlstate: "25006",
  });
  b.op("writes-pgjdbc", "write", 3100, 3105, "ok", { value: ++jid });
  b.op("writes-pgjdbc", "write", 3200, 3205, "ok", { value: ++jid });
  return b.end(4000).events;
}

describe("clients compared", () => {
  it("puts each client path side by side: driver, path, downtime, when it was served again, hung and read-only operations", () => {
    const { metrics, valid } = clientsChecker.check(twoClients());
    expect(valid).toBe(true);
    const [own, jdbc] = metrics.probes;
    expect(own).toMatchObject({ probe: "writes", driver: "node-postgres", via: "rw, a held connection", timedOut: 0, readOnlyErrors: 0 });
    expect(own!.recoveredAfterMs).toBe(505);
    expect(own!.errors).toEqual([{ text: "ECONNREFUSED connect ECONNREFUSED <host>", count: 2 }]);
    expect(jdbc).toMatchObject({ probe: "writes-pgjdbc", driver: "pgjdbc", via: "rw, a held connection", timedOut: 2, readOnlyErrors: 1 });
    expect(jdbc!.recoveredAfterMs).toBe(2105);
    expect(jdbc!.errors[0]).toEqual({ text: "timed out (hung past its timeout)", count: 2 });
    expect(metrics.worstDowntimeMs).toBe(jdbc!.downtimeMs);
    expect(metrics.downtimeSpreadMs).toBe(jdbc!.downtimeMs - own!.downtimeMs);
    expect(metrics).toMatchObject({ worstRecoveredAfterMs: 2105, timedOut: 2, readOnlyErrors: 1 });
  });

  it("says a client that never came back never did, and leaves the worst recovery unmeasured", () => {
    const events = history()
      .start()
      .fault(100)
      .select1(0, "ok")
      .select1(200, "fail")
      .op("select1-libpq", "select1", 0, 5, "ok")
      .op("select1-libpq", "select1", 200, 205, "ok")
      .select1(300, "ok")
      .end(400).events;
    const { metrics } = clientsChecker.check(events);
    expect(metrics.probes.map((probe) => probe.recoveredAfterMs)).toEqual([205, 0]);
    const never = history().start().fault(100).select1(0, "ok").select1(200, "fail").end(400).events;
    expect(clientsChecker.check(never).metrics).toMatchObject({ worstRecoveredAfterMs: null });
  });

  it("is in every report format and can be gated", () => {
    const events = twoClients();
    const result = analyzeHistory(events, { gate: { "clients.timedOut": "== 0", "clients.worstDowntimeMs": "< 5000" } });
    expect(result.gates.map((gate) => [gate.metric, gate.pass])).toEqual([
      ["clients.timedOut", false],
      ["clients.worstDowntimeMs", true],
    ]);
    const model = reportModel(result);
    expect(model.clients.map((client) => [client.probe, client.driver, client.hung, client.readOnly])).toEqual([
      ["writes", "node-postgres", 0, 0],
      ["writes-pgjdbc", "pgjdbc", 2, 1],
    ]);
    const markdown = renderMarkdown(model);
    expect(markdown).toContain("### Clients compared");
    expect(markdown).toMatch(/\| writes-pgjdbc \| pgjdbc \| rw, a held connection \| .* \| 2\.10 s \| .* \| 2 \| 1 \|/);
    expect(renderJunit(model)).toContain('name="client.writes-pgjdbc" value="writes-pgjdbc (pgjdbc; rw, a held connection): down');
    expect(formatSummary(result, { color: false })).toContain("2 hung past timeout, 1 refused read-only");
  });
});
