/**
 * pgdrill's import rules, checked by dependency-cruiser (`npm run deps`; test/unit/import-rules.test.ts
 * runs the same check in `npm test`, so CI enforces it). They state the one-way flow of STYLE.md in
 * imports: Target → probes + schedule → History → Checkers → Gate → Reports.
 *
 * Type-only imports count. `tsPreCompilationDeps: true` keeps `import type` edges in the graph, and
 * every rule below applies to them as it does to runtime imports: a type is part of a module's
 * contract, so a type-only import still ties one layer to another (the report modules' cycle through
 * ReportContext was type-only). The one exception is `not-to-dev-dep`, which is about what the
 * installed package loads: type-only imports are erased, and @types/* are devDependencies by design.
 *
 * @type {import("dependency-cruiser").IConfiguration}
 */

/** One folder (or file) of harness/ as a path pattern. */
const folder = (name) => `^harness/${name}/`;
const file = (name) => `^harness/${name}\\.ts$`;
/** The fault runtime (faults.ts, command.ts and so zx): all of fault/ but the pure catalog.ts. */
const FAULT_RUNTIME = "^harness/fault/(?!catalog\\.ts$)";
/**
 * The targets' plugins and their registry: pure data and functions (zod schemas, node names,
 * capabilities, checks, claims) that the scenario schema, validation and the reports read.
 */
const TARGET_PLUGINS = "^harness/targets/((plugin|registry)\\.ts|[^/]+/plugin\\.ts|cnpg/safety\\.ts)$";
/** Everything else of targets/: what starts, faults and tears down a target. */
const TARGET_RUNTIME = "^harness/targets/(?!((plugin|registry)\\.ts|[^/]+/plugin\\.ts|cnpg/safety\\.ts)$)";
/** What runs a drill against a live target; the analysis must never need any of it. */
const DRILL_SIDE = [TARGET_RUNTIME, folder("probe"), folder("connection"), folder("schedule"), folder("operator"), folder("run"), folder("cli"), FAULT_RUNTIME];
/** What turns a saved History into results and reports (`pgdrill report` runs only this). */
const ANALYSIS_SIDE = [folder("history"), folder("checker"), folder("gate"), folder("report"), file("analyze"), file("result"), file("trials")];
/** The entry points: the public barrels and the CLI. */
const ENTRY_POINTS = [file("index"), file("api"), folder("cli")];

module.exports = {
  forbidden: [
    {
      name: "no-circular",
      comment: "No module of harness/ may reach itself again through its imports (type-only ones included): put a shared contract in a module of its own, as report/types.ts does.",
      severity: "error",
      from: { path: "^harness/" },
      to: { circular: true },
    },
    {
      name: "history-is-the-record",
      comment: "history/ (events, writer, reader, read model) is what everything else reads; it imports nothing of pgdrill but the shared leaves (errors.ts, duration.ts, …).",
      severity: "error",
      from: { path: folder("history") },
      to: {
        path: [folder("checker"), folder("gate"), folder("report"), folder("targets"), folder("probe"), folder("connection"), folder("fault"), folder("schedule"), folder("run"), folder("cli"), folder("scenario"), file("analyze"), file("result"), file("trials"), file("index"), file("api")],
      },
    },
    {
      name: "checkers-read-only-the-history",
      comment: "A checker is a pure function of the History (and the result types it fills in): nothing of the gate, the reports, the targets, probes, fault runtime, schedule, run or CLI.",
      severity: "error",
      from: { path: folder("checker") },
      to: { path: [folder("gate"), folder("report"), folder("targets"), folder("probe"), folder("connection"), FAULT_RUNTIME, folder("schedule"), folder("run"), folder("cli"), folder("scenario"), file("analyze"), file("trials"), file("index"), file("api")] },
    },
    {
      name: "gate-judges-only-metrics",
      comment: "The gate judges metrics and decides the verdict; it draws nothing and touches no target, probe, fault, schedule, run or CLI.",
      severity: "error",
      from: { path: folder("gate") },
      to: { path: [folder("report"), folder("targets"), folder("probe"), folder("connection"), folder("fault"), folder("schedule"), folder("run"), folder("cli"), folder("scenario"), file("analyze"), file("trials"), file("index"), file("api")] },
    },
    {
      name: "reports-only-draw",
      comment: "Reports draw results and the History: they compute nothing (no checker), and load no target runtime, probe, schedule, run, CLI or fault runtime (fault/catalog.ts has the labels and colours, a target's plugin its strategy).",
      severity: "error",
      from: { path: folder("report") },
      to: { path: [folder("checker"), TARGET_RUNTIME, folder("probe"), folder("connection"), FAULT_RUNTIME, folder("schedule"), folder("run"), folder("cli"), file("analyze"), file("index"), file("api")] },
    },
    {
      name: "analysis-never-reaches-the-drill",
      comment: "`pgdrill report` re-analyses a saved run with no cluster: nothing the analysis imports, however indirectly (type-only included), may lead to the drill side.",
      severity: "error",
      from: { path: ANALYSIS_SIDE },
      to: { path: DRILL_SIDE, reachable: true },
    },
    {
      name: "drill-side-does-not-read-results",
      comment: "Targets, connections, probes, faults and the schedule write the History; they never import the checkers, the gate, the reports or the analysis (only run/ hands a finished History on to analyze.ts).",
      severity: "error",
      from: { path: [folder("targets"), folder("connection"), folder("probe"), folder("fault"), folder("schedule")] },
      to: { path: [folder("checker"), folder("gate"), folder("report"), file("analyze"), file("trials")] },
    },
    {
      name: "connection-below-probes-and-targets",
      comment: "The connection layer (Session, Endpoint, the app pool) is below both probes and targets: it imports neither, nor anything above them.",
      severity: "error",
      from: { path: folder("connection") },
      to: { path: [folder("probe"), folder("targets"), folder("fault"), folder("schedule"), folder("run"), folder("scenario"), folder("history")] },
    },
    {
      name: "targets-do-not-import-probes",
      comment: "Targets reach databases through connection/, not through the probes that drill them.",
      severity: "error",
      from: { path: folder("targets") },
      to: { path: [folder("probe"), FAULT_RUNTIME, folder("schedule")] },
    },
    {
      name: "target-plugins-are-pure",
      comment: "A target's plugin and the registry are read by the scenario schema (and so by every scenario file), validation and the reports: they load no target runtime, connection, probe, fault runtime, schedule, run or CLI, and no package but zod.",
      severity: "error",
      from: { path: TARGET_PLUGINS },
      to: { path: [TARGET_RUNTIME, folder("connection"), folder("probe"), FAULT_RUNTIME, folder("schedule"), folder("run"), folder("cli"), folder("history"), folder("checker"), folder("gate"), folder("report")] },
    },
    {
      name: "target-plugins-load-only-zod",
      comment: "The only package a plugin may load is zod (its options schema).",
      severity: "error",
      from: { path: TARGET_PLUGINS },
      to: { dependencyTypes: ["npm"], pathNot: "node_modules/zod/" },
    },
    {
      name: "run-is-on-top",
      comment: "run/ drives one drill through every layer: only the CLI, the public barrels (index.ts, api.ts) and run/ itself import it. What a lower layer needs lives below it (clock.ts, targets/shared/owners.ts, operator/).",
      severity: "error",
      from: { path: "^harness/", pathNot: [folder("run"), folder("cli"), file("index"), file("api")] },
      to: { path: folder("run") },
    },
    {
      name: "operator-desk-below-the-schedule",
      comment: "operator/ (the desk and its request file) is what the schedule's manual steps and the CLI's keyboard talk to: it imports none of the layers that drive a drill.",
      severity: "error",
      from: { path: folder("operator") },
      to: { path: [folder("schedule"), folder("run"), folder("cli"), folder("targets"), folder("probe"), folder("connection"), folder("fault"), folder("scenario")] },
    },
    {
      name: "only-entry-points-import-the-cli",
      comment: "cli/ is an entry point (bin/pgdrill.js starts it): nothing in harness/ outside cli/ imports it.",
      severity: "error",
      from: { path: "^harness/", pathNot: folder("cli") },
      to: { path: folder("cli") },
    },
    {
      name: "nothing-imports-the-entry-points",
      comment: "index.ts and api.ts are the public barrels: the harness itself imports the modules they re-export, never the barrels.",
      severity: "error",
      from: { path: "^harness/", pathNot: ENTRY_POINTS },
      to: { path: [file("index"), file("api")] },
    },
    {
      name: "harness-does-not-import-tests",
      comment: "The shipped harness imports nothing from test/, bench/ or fixtures/.",
      severity: "error",
      from: { path: "^harness/" },
      to: { path: "^(test|bench|fixtures)/" },
    },
    {
      name: "not-to-unresolvable",
      comment: "Every import resolves to a file or an installed package.",
      severity: "error",
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: "not-to-dev-dep",
      comment: "The harness ships to users: at runtime it loads only dependencies, never devDependencies (type-only imports are erased, so @types/* are fine).",
      severity: "error",
      from: { path: "^harness/" },
      to: { dependencyTypes: ["npm-dev"], dependencyTypesNot: ["type-only"], pathNot: "node_modules/@types/" },
    },
    {
      name: "no-non-package-json",
      comment: "Every package the harness imports is declared in package.json.",
      severity: "error",
      from: {},
      to: { dependencyTypes: ["npm-no-pkg", "npm-unknown"] },
    },
  ],
  options: {
    // Type-only imports are dependencies too (see the top of this file).
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    doNotFollow: { path: "node_modules" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default", "types"], mainFields: ["module", "main", "types", "typings"] },
  },
};
