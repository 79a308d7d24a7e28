import { mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { InputError } from "../../harness/errors.ts";
import type { AlertingEvent, BackupEvent, HistoryEvent, HistoryKind } from "../../harness/history/events.ts";
import { readHistory } from "../../harness/history/reader.ts";
import { CORE_KINDS, eventProblem as problemWith, shapeProblem as shapeProblemWith } from "../../harness/history/validate.ts";
import type { TargetPlugin } from "../../harness/targets/plugin.ts";
import { mergeEntries, TARGET_OBSERVATIONS, targetPlugin } from "../../harness/targets/registry.ts";
import { history } from "../fixtures/histories/builder.ts";

// Read as the analysis reads: the core's kinds and every target's own observation kinds.
const eventProblem = (value: unknown) => problemWith(value, TARGET_OBSERVATIONS);
const shapeProblem = (value: unknown) => shapeProblemWith(value, TARGET_OBSERVATIONS);
const HISTORY_KINDS = [...CORE_KINDS, ...Object.keys(TARGET_OBSERVATIONS)];

/** One `alerting` event of every subject, as the monitoring writes them (harness/monitoring/). */
const ALERTING_SAMPLES: { [S in AlertingEvent["subject"]]: AlertingEvent & { subject: S } } = {
  setup: {
    kind: "alerting",
    t: 10.6,
    subject: "setup",
    source: "started",
    prometheus: "http://127.0.0.1:49200",
    alertmanager: null,
    scrapeIntervalMs: 15_000,
    evaluationIntervalMs: 15_000,
    groupWaitMs: null,
    rules: [
      {
        alert: "PostgresReplicationLag",
        group: "postgres",
        expr: "pg_replication_lag_seconds > 30",
        forMs: 300_000,
        labels: { severity: "warning" },
        metrics: ["pg_replication_lag_seconds"],
        missingMetrics: ["pg_replication_lag_seconds"],
        earliestMs: 300_000,
        latestMs: null,
      },
    ],
    expect: [{ alert: "PostgresDown", withinMs: 120_000 }],
    mustNotFire: ["PostgresHighConnections"],
  },
  alert: {
    kind: "alerting",
    t: 10.7,
    subject: "alert",
    from: "prometheus",
    alert: "PostgresDown",
    labels: { alertname: "PostgresDown", instance: "primary", severity: "critical" },
    state: "pending",
    activeAt: "2026-12-07T19:14:50.103704037Z",
  },
  sample: { kind: "alerting", t: 10.8, subject: "sample", alert: "PostgresDown", exprSeries: 1, selectorSeries: { pg_up: 2 } },
  reachable: { kind: "alerting", t: 10.9, subject: "reachable", from: "alertmanager", reachable: false, error: "ECONNREFUSED" },
};

/** One `backup` event of every subject, as targets/shared/ writes them, optional fields present. */
const BACKUP_SAMPLES: { [S in BackupEvent["subject"]]: BackupEvent & { subject: S } } = {
  setup: {
    kind: "backup",
    t: 1.1,
    subject: "setup",
    tool: "pgbackrest",
    version: "pgBackRest 2.45",
    stanza: "pgdrill",
    repository: "docker volume pgdrill-r1-backup",
    retentionFull: 2,
    archiveTimeoutMs: 1000,
    seedBytes: 64 * 1024 * 1024,
    seedMs: 2500,
  },
  check: {
    kind: "backup",
    t: 1.2,
    subject: "check",
    ok: false,
    durationMs: 800,
    node: "primary",
    error: "ERROR: [082]: WAL segment was not archived",
  },
  verify: { kind: "backup", t: 1.3, subject: "verify", ok: true, durationMs: 300, node: "primary" },
  backup: {
    kind: "backup",
    t: 1.4,
    subject: "backup",
    ok: true,
    node: "primary",
    backupType: "full",
    label: "20261207-221500F",
    startedAt: 1.35,
    durationMs: 5000,
    sizeBytes: 31_000_000,
    repoSizeBytes: 4_000_000,
    walStart: "000000010000000000000003",
    walStop: "000000010000000000000003",
    error: "none",
  },
  archive: {
    kind: "backup",
    t: 1.5,
    subject: "archive",
    node: "primary",
    currentLsn: "0/4000110",
    archivedLsn: null,
    lagBytes: null,
    lastArchivedWal: "000000010000000000000003",
    lastArchivedAt: 1.45,
    failedCount: 0,
  },
  disaster: { kind: "backup", t: 1.6, subject: "disaster", disaster: "drop-table", nodes: ["primary"], xid: "1234", detail: "DROP TABLE" },
  restore: {
    kind: "backup",
    t: 1.7,
    subject: "restore",
    phase: "started",
    node: "primary",
    target: { type: "xid", xid: "1234", exclusive: true },
    label: "20261207-221500F",
    durationMs: 1,
    sizeBytes: 2,
    detail: "d",
    error: "e",
  },
};

/** One well-formed event of every kind, optional fields present where a kind has them. */
const SAMPLES: { [K in HistoryKind]: Extract<HistoryEvent, { kind: K }> } = {
  "run-start": {
    kind: "run-start",
    t: 0,
    wallClock: "2025-01-01T00:00:00.000Z",
    runId: "r",
    scenario: "s",
    target: "container-pair",
    nodes: ["primary", "standby"],
    primary: "primary",
    durationMs: 1000,
    steadyStateMs: 100,
    version: "1",
  },
  phase: { kind: "phase", t: 1, phase: "drill" },
  invoke: { kind: "invoke", t: 2, probe: "writes", type: "write", worker: 0, op: 3, node: "primary", value: 7 },
  complete: {
    kind: "complete",
    t: 3,
    probe: "role",
    type: "role",
    worker: 1,
    op: 3,
    outcome: "ok",
    node: "standby",
    server: "10.0.0.2:5432",
    latencyMs: 1.5,
    value: { primary: false, timeline: null, server: "10.0.0.2:5432", systemId: "7" },
    error: "none",
  },
  fault: {
    kind: "fault",
    t: 4,
    phase: "inject",
    id: "f1",
    fault: "kill",
    label: "kill primary",
    nodes: ["primary"],
    ok: false,
    error: "boom",
    output: "out",
  },
  action: {
    kind: "action",
    t: 5,
    phase: "end",
    id: "a1",
    action: "switchover",
    label: "switchover",
    node: "standby",
    afterMs: 1000,
    ok: true,
    error: "e",
  },
  endpoint: { kind: "endpoint", t: 6, endpoint: "rw", node: "standby" },
  k8s: {
    kind: "k8s",
    t: 7,
    subject: "pod",
    name: "pg-1",
    role: null,
    currentPrimary: "pg-2",
    targetPrimary: "pending",
    phase: "Failing over",
    resync: true,
  },
  ha: {
    kind: "ha",
    t: 7.5,
    manager: "patroni",
    subject: "member",
    name: "pg1",
    leader: "pg2",
    role: "replica",
    state: "running",
    timeline: 2,
    lagBytes: 0,
  },
  monitor: {
    kind: "monitor",
    t: 7.6,
    subject: "event",
    node: "node2",
    eventId: 12,
    at: "2026-12-07T15:43:52.396Z",
    reportedState: "secondary",
    goalState: "prepare_promotion",
    description:
      'Setting goal state of node 2 "node2" (node2:5432) to prepare_promotion after node 1 "node1" (node1:5432) became unhealthy.',
  },
  "steady-state": { kind: "steady-state", t: 8, ok: true, availability: null, required: 1, message: "m" },
  "final-read": {
    kind: "final-read",
    t: 9,
    probe: "writes",
    node: "standby",
    ok: true,
    ranges: [
      [1, 3],
      [5, 5],
    ],
    count: 4,
    error: "e",
  },
  log: { kind: "log", t: 10, level: "warn", message: "m" },
  mark: { kind: "mark", t: 10.5, note: "deleted the primary pod", by: "keyboard" },
  alerting: ALERTING_SAMPLES.setup,
  backup: BACKUP_SAMPLES.restore,
  "run-end": { kind: "run-end", t: 11, status: "errored", error: "e" },
};

/** Every sample: one of each kind, and of each subject of the kinds that have several. */
const EVERY_SAMPLE: HistoryEvent[] = [...Object.values(SAMPLES), ...Object.values(ALERTING_SAMPLES), ...Object.values(BACKUP_SAMPLES)];

/** Values of every JSON type, to put where a field's value was. */
const WRONG_VALUES: unknown[] = [
  undefined,
  null,
  "x",
  "",
  0,
  -1.5,
  true,
  false,
  [],
  [1, 2],
  {},
  { primary: true, timeline: 1 },
  "ok",
  "select1",
  "inject",
  "start",
];

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});
function historyFile(text: string): string {
  const dir = mkdtempSync(join(tmpdir(), "pgdrill-validate-"));
  tempDirs.push(dir);
  const path = join(dir, "history.jsonl");
  writeFileSync(path, text);
  return path;
}

describe("History events, checked as they are read", () => {
  it("accepts a sample of every kind, and the same event with its optional fields left out", () => {
    expect(Object.keys(SAMPLES).sort()).toEqual([...HISTORY_KINDS].sort());
    for (const sample of EVERY_SAMPLE) expect(eventProblem(sample)).toBeNull();
    expect(eventProblem({ kind: "invoke", t: 2, probe: "select1", type: "select1", worker: 0, op: 0 })).toBeNull();
    expect(
      eventProblem({ kind: "complete", t: 3, probe: "select1", type: "select1", worker: 0, op: 0, outcome: "info", latencyMs: 500 }),
    ).toBeNull();
    expect(eventProblem({ kind: "action", t: 5, phase: "start", id: "a1", action: "heal", label: "heal all faults" })).toBeNull();
    expect(eventProblem({ kind: "k8s", t: 7, subject: "cluster", name: "pg" })).toBeNull();
    expect(eventProblem({ kind: "alerting", t: 10, subject: "reachable" })).toBeNull();
    expect(eventProblem({ kind: "backup", t: 10, subject: "restore", phase: "ready", node: "primary" })).toBeNull();
    for (const target of [{ type: "latest" }, { type: "time", time: "2026-12-07T22:15:00.000Z", at: 9000 }])
      expect(eventProblem({ ...BACKUP_SAMPLES.restore, target })).toBeNull();
  });

  it("accepts every event of a hand-made drill and both example runs", async () => {
    const drill = history()
      .start()
      .steadyState(10)
      .select1(20, "ok")
      .write(1, 20, "info")
      .role(30, "primary", "primary")
      .role(30, "standby", "down")
      .fault(40)
      .finalRead(50, [1])
      .end(60);
    for (const event of drill.events) expect(eventProblem(event)).toBeNull();
    for (const example of readdirSync("reports/examples")) {
      const { events, truncated } = await readHistory(join("reports/examples", example, "history.jsonl"), TARGET_OBSERVATIONS);
      expect(events.length).toBeGreaterThan(1000);
      expect(truncated).toBe(false);
    }
  });

  it("lets through fields it does not know: a newer pgdrill may write some", () => {
    expect(eventProblem({ ...SAMPLES.phase, note: "from the future" })).toBeNull();
    expect(eventProblem({ ...SAMPLES.complete, retries: 2 })).toBeNull();
  });

  it("says what is wrong: the field, what it must be, and what it was", () => {
    expect(eventProblem([1])).toBe("not a JSON object");
    expect(eventProblem({ t: 1 })).toBe('no string "kind"');
    expect(eventProblem({ kind: "phase" })).toBe('no number "t"');
    expect(eventProblem({ kind: "note", t: 1 })).toMatch(
      /^unknown kind "note": a History event is one of run-start, phase, invoke, complete, /,
    );
    expect(eventProblem({ ...SAMPLES.complete, latencyMs: "12" })).toBe('a complete event\'s "latencyMs" must be a number, got "12"');
    expect(eventProblem({ ...SAMPLES.complete, outcome: "maybe" })).toBe(
      'a complete event\'s "outcome" must be one of ok, fail, info, got "maybe"',
    );
    const { probe: _, ...noProbe } = SAMPLES.invoke;
    expect(eventProblem(noProbe)).toBe('an invoke event\'s "probe" must be a string, got nothing');
    expect(eventProblem({ ...SAMPLES.complete, value: { primary: "yes" } })).toMatch(
      /^a complete event's "value" must be a number or a role value .*, or absent, got \{"primary":"yes"\}$/,
    );
    expect(eventProblem({ ...SAMPLES["final-read"], ranges: [[1, 2, 3]] })).toBe(
      'a final-read event\'s "ranges" must be an array of [from, to] pairs of numbers, got [[1,2,3]]',
    );
    expect(eventProblem({ ...SAMPLES.fault, label: "x".repeat(100) })).toBeNull();
    // A kind told apart by its subject: the subject first, then that subject's own fields, named with it.
    expect(eventProblem({ ...BACKUP_SAMPLES.restore, subject: "snapshot" })).toBe(
      'a backup event\'s "subject" must be one of setup, check, verify, backup, archive, disaster, restore, got "snapshot"',
    );
    expect(eventProblem({ ...BACKUP_SAMPLES.restore, phase: "done" })).toBe(
      'a backup restore event\'s "phase" must be one of started, restored, ready, replica, failed, got "done"',
    );
    expect(eventProblem({ ...BACKUP_SAMPLES.restore, target: { type: "xid", xid: 1234 } })).toMatch(
      /^a backup restore event's "target" must be a recovery target \(.*\), or absent, got \{"type":"xid","xid":1234\}$/,
    );
    expect(eventProblem({ ...BACKUP_SAMPLES.archive, lagBytes: "12 MB" })).toBe(
      'a backup archive event\'s "lagBytes" must be a number or null, got "12 MB"',
    );
    expect(eventProblem({ ...BACKUP_SAMPLES.disaster, disaster: "fire" })).toBe(
      'a backup disaster event\'s "disaster" must be one of destroy-data, drop-table, truncate-table, corrupt-file, got "fire"',
    );
    const { durationMs: _d, ...noDuration } = BACKUP_SAMPLES.verify;
    expect(eventProblem(noDuration)).toBe('a backup verify event\'s "durationMs" must be a number, got nothing');
    // Another subject's fields are not asked of it: an archive sample has no "ok".
    expect(eventProblem({ ...BACKUP_SAMPLES.archive, ok: "maybe" })).toBeNull();
    expect(eventProblem({ ...SAMPLES.fault, nodes: "x".repeat(100) })).toBe(
      `a fault event's "nodes" must be an array of strings, got "${"x".repeat(56)}...`,
    );
  });

  it("refuses, in every field of every kind, a value its type does not allow", () => {
    for (const sample of EVERY_SAMPLE) {
      for (const key of Object.keys(sample).filter((name) => name !== "kind" && name !== "t")) {
        const refused = WRONG_VALUES.filter((value) => eventProblem({ ...sample, [key]: value }) !== null);
        // Every field refuses something, and an optional field still refuses a value of the wrong type.
        expect(refused.length, `${sample.kind}.${key}`).toBeGreaterThan(0);
        expect(eventProblem({ ...sample, [key]: Symbol.for("not JSON") }), `${sample.kind}.${key}`).toMatch(new RegExp(`"${key}" must be`));
      }
    }
  });

  it("gives the quick checks of invoke and complete exactly the verdict of their shapes", () => {
    const anyValue = fc.oneof(
      fc.constantFrom(...WRONG_VALUES),
      fc.string(),
      fc.double(),
      fc.record({
        primary: fc.boolean(),
        timeline: fc.oneof(fc.constant(null), fc.integer()),
        server: fc.option(fc.string(), { nil: undefined }),
      }),
    );
    for (const kind of ["invoke", "complete"] as const) {
      const sample = SAMPLES[kind] as unknown as Record<string, unknown>;
      const fields = Object.keys(sample).filter((name) => name !== "kind" && name !== "t");
      // Each field alone replaced or removed, every way the sample can go wrong.
      for (const key of fields) {
        for (const value of WRONG_VALUES) {
          const mutant = { ...sample, [key]: value };
          expect(eventProblem(mutant) === null, `${kind}.${key} = ${String(value)}`).toBe(shapeProblem(mutant) === null);
        }
      }
      // And any mix of them.
      fc.assert(
        fc.property(fc.dictionary(fc.constantFrom(...fields), anyValue), (changes) => {
          const mutant = { ...sample, ...changes };
          return (eventProblem(mutant) === null) === (shapeProblem(mutant) === null);
        }),
        { numRuns: 2000 },
      );
    }
  });
});

describe("readHistory, on a line that is JSON but not an event", () => {
  it("names the file, the line and what is wrong with it", async () => {
    const lines = history().start().select1(0, "ok").select1(100, "ok").end(200).jsonl().split("\n");
    lines[2] = lines[2]!.replace('"outcome":"ok"', '"outcome":"okay"');
    const path = historyFile(lines.join("\n"));
    const failure = readHistory(path, TARGET_OBSERVATIONS);
    await expect(failure).rejects.toThrow(InputError);
    await expect(readHistory(path, TARGET_OBSERVATIONS)).rejects.toThrow(
      `${path}:3: is not a History event (a complete event's "outcome" must be one of ok, fail, info, got "okay"). Only the last line of a history may be cut short`,
    );
  });

  it("drops such a line when it is the last, as a cut-short one, and says the history was truncated", async () => {
    const drill = history().start().select1(0, "ok");
    const path = historyFile(`${drill.jsonl()}{"kind":"run-end","t":30,"status":"done"}\n`);
    const { events, truncated } = await readHistory(path, TARGET_OBSERVATIONS);
    expect(truncated).toBe(true);
    expect(events).toEqual(drill.events);
  });
});

describe("the targets' own event kinds, merged by the registry", () => {
  const plugin = (kind: string, observations: Record<string, unknown>) =>
    ({ ...targetPlugin("endpoint")!, kind, observations }) as unknown as TargetPlugin;

  it("holds every target's kinds, and no kind every target shares", () => {
    expect(Object.keys(TARGET_OBSERVATIONS).sort()).toEqual(["ha", "k8s", "monitor"]);
    expect(CORE_KINDS.filter((kind) => kind in TARGET_OBSERVATIONS)).toEqual([]);
  });

  it("refuses a kind two targets, or a target and the core, both claim", () => {
    expect(() => mergeEntries([plugin("a", { lamp: {} }), plugin("b", { lamp: {} })], "observations", CORE_KINDS)).toThrow(
      'The b target\'s observations names "lamp", which the a target already has: rename it in its plugin.',
    );
    const core = () => mergeEntries([plugin("a", { fault: {} })], "observations", CORE_KINDS);
    expect(core).toThrow('names "fault", which the core already has');
  });

  it("reads a target's kind only where it is handed: without it, the kind is unknown", () => {
    expect(problemWith(SAMPLES.k8s, {} as typeof TARGET_OBSERVATIONS)).toMatch(/^unknown kind "k8s"/);
    const wrong = eventProblem({ ...SAMPLES.k8s, subject: "node" });
    expect(wrong).toBe('a k8s event\'s "subject" must be one of pod, cluster, lease, endpoints, got "node"');
  });
});
