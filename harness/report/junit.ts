/**
 * JUnit XML, so CI systems show a drill natively: one testsuite per run (per trial with
 * --trials), one testcase per gate with actual vs expected, one per alert the scenario expects or
 * forbids (monitoring), one per thing a restore must do (a restore drill), and an `errored` run as an <error>.
 * Drawn from the report model, as every format is.
 */
import { create } from "xmlbuilder2";
import type { XMLBuilder } from "xmlbuilder2/lib/interfaces.js";
import { clientLine, formatActual } from "./format.ts";
import type { ReportModel, Span } from "./types.ts";

export function renderJunit(models: ReportModel | readonly ReportModel[]): string {
  const runs: readonly ReportModel[] = isList(models) ? models : [models];
  const root = create({ version: "1.0", encoding: "UTF-8" }).ele("testsuites", {
    name: "pgdrill",
    tests: runs.reduce((sum, run) => sum + cases(run), 0),
    failures: runs.reduce((sum, run) => sum + failures(run), 0),
    errors: runs.filter((run) => run.run.verdict === "errored").length,
  });
  runs.forEach((run, index) => addSuite(root, run, runs.length > 1 ? `trial ${index + 1}` : null));
  return root.end({ prettyPrint: true }) + "\n";
}

function isList(models: ReportModel | readonly ReportModel[]): models is readonly ReportModel[] {
  return Array.isArray(models);
}

/** The alerts' and the restore's cases, judged by their checks. */
const judged = ({ alerts, restore }: ReportModel) => [...(alerts?.cases ?? []), ...(restore?.cases ?? [])];

function cases(model: ReportModel): number {
  const { run, gates } = model;
  return gates.length + (run.verdict === "errored" || gates.length === 0 ? 1 : 0) + judged(model).length;
}

function failures(model: ReportModel): number {
  return model.gates.filter((gate) => !gate.pass).length + judged(model).filter((judgedCase) => judgedCase.outcome === "fail").length;
}

/** XML has no emphasis: the words alone. */
const plain = (span: Span) => (typeof span === "string" ? span : span.text);

function addSuite(root: XMLBuilder, model: ReportModel, trial: string | null): void {
  const { run, gates } = model;
  const name = `pgdrill.${run.scenario}${trial ? ` (${trial})` : ""}`;
  const suite = root.ele("testsuite", {
    name,
    tests: cases(model),
    failures: failures(model),
    errors: run.verdict === "errored" ? 1 : 0,
    time: (run.durationMs / 1000).toFixed(3),
    timestamp: run.startedAt,
  });
  suite
    .ele("properties")
    .ele("property", { name: "runId", value: run.runId })
    .up()
    .ele("property", { name: "target", value: run.target })
    .up()
    .ele("property", { name: "verdict", value: run.verdict })
    .up()
    .ele("property", { name: "failover", value: plain(model.headline.outage) });
  // Each client path, so a CI system shows how every driver fared beside the gates.
  const properties = suite.first();
  for (const client of model.clients) properties.ele("property", { name: `client.${client.probe}`, value: clientLine(client) });
  // An errored run says nothing about failover: it is an error, not a failed gate.
  if (run.verdict === "errored" || gates.length === 0) {
    const testcase = suite.ele("testcase", { classname: name, name: "drill ran to completion" });
    if (run.verdict === "errored") testcase.ele("error", { message: run.reason ?? "errored" }).txt(run.reason ?? "errored");
  }
  for (const gate of gates) {
    const testcase = suite.ele("testcase", { classname: name, name: `${gate.metric} ${gate.expected}` });
    if (!gate.pass) {
      const message = `${gate.metric} was ${formatActual(gate.actual)}${gate.note ? ` (${gate.note})` : ""}, expected ${gate.expected}`;
      testcase.ele("failure", { message, type: "gate" }).txt(message);
    }
  }
  // What the alerts did against what the scenario said, and what the restore did: a failure names what and when.
  const kinds = [
    ...(model.alerts?.cases ?? []).map((each) => [each, "alert"] as const),
    ...(model.restore?.cases ?? []).map((each) => [each, "restore"] as const),
  ];
  for (const [judgedCase, type] of kinds) {
    const testcase = suite.ele("testcase", { classname: name, name: judgedCase.name });
    const message = judgedCase.message ?? "";
    if (judgedCase.outcome === "fail") testcase.ele("failure", { message, type }).txt(message);
    if (judgedCase.outcome === "skipped") testcase.ele("skipped", { message });
  }
}
