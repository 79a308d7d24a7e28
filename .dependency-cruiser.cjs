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
/**
 * The pure part of fault/: the fault modules (kinds/), their contract (define.ts), the registry
 * and the catalog, which the scenario schema, validation and the reports read.
 */
const FAULT_MODULES = "(define|registry|catalog)\\.ts|kinds/[^/]+\\.ts";
/** The fault runtime (run.ts, shell.ts and so zx): all of fault/ but its pure modules. */
const FAULT_RUNTIME = `^harness/fault/(?!(${FAULT_MODULES})$)`;
const FAULT_PURE = `^harness/fault/(${FAULT_MODULES})$`;
/** The action modules (action/: contract, registry, kinds): pure, as fault modules are. */
const ACTION_PURE = folder("action");
/**
 * The targets' plugins, their contract and their registry: where the pure side of a target begins.
 * A plugin and everything it reaches (its options, its observation event kinds, its checks, its
 * claims, in its own folder) is pure data and functions that the scenario schema, validation, the
 * checkers and the reports load; the rules below hold that for whatever it reaches, so a target's
 * folder may hold pure modules under any name.
 */
const TARGET_PLUGINS = "^harness/targets/((plugin|registry)\\.ts|[^/]+/plugin\\.ts)$";
/**
 * The packages that drive a live target (Docker, Kubernetes, PostgreSQL, shell-outs) and the
 * built-ins that start processes or dial out: what a target's runtime uses, and what nothing pure
 * may reach. A target runtime is whatever in targets/ leads to one of these.
 */
const DRILL_PACKAGES = ["(^|/)node_modules/(@kubernetes/client-node|pg|pg-connection-string|testcontainers|zx)/", "^(node:)?(child_process|net|dgram|dns|tls)$"];
/** The drill's own layers above the targets: probes, connections, the schedule, the run, the CLI, the fault runtime. */
const DRILL_LAYERS = [folder("probe"), folder("connection"), folder("schedule"), folder("operator"), folder("run"), folder("cli"), FAULT_RUNTIME];
/** What runs a drill against a live target; the analysis must never need any of it. */
const DRILL_SIDE = [...DRILL_LAYERS, ...DRILL_PACKAGES];
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
        path: [folder("checker"), folder("gate"), folder("report"), folder("targets"), folder("probe"), folder("connection"), folder("fault"), folder("action"), folder("schedule"), folder("run"), folder("cli"), folder("scenario"), file("analyze"), file("result"), file("trials"), file("index"), file("api")],
      },
    },
    {
      name: "checkers-read-only-the-history",
      comment: "A checker is a pure function of the History (and the result types it fills in): nothing of the gate, the reports, probes, fault runtime, schedule, run or CLI. Of the targets only the plugins (their registry and contract), whose checks and signs the runner composes with the core's.",
      severity: "error",
      from: { path: folder("checker") },
      to: { pathNot: TARGET_PLUGINS, path: [folder("gate"), folder("report"), folder("targets"), folder("probe"), folder("connection"), FAULT_RUNTIME, folder("action"), folder("schedule"), folder("run"), folder("cli"), folder("scenario"), file("analyze"), file("trials"), file("index"), file("api")] },
    },
    {
      name: "gate-judges-only-metrics",
      comment: "The gate judges metrics and decides the verdict; it draws nothing and touches no target, probe, fault, schedule, run or CLI. Of the targets only their registry (gate/metrics.ts reads the gate metrics the targets' checks declare), which is pure (target-plugins-are-pure).",
      severity: "error",
      from: { path: folder("gate") },
      to: { pathNot: "^harness/targets/registry\\.ts$", path: [folder("report"), folder("targets"), folder("probe"), folder("connection"), folder("fault"), folder("action"), folder("schedule"), folder("run"), folder("cli"), folder("scenario"), file("analyze"), file("trials"), file("index"), file("api")] },
    },
    {
      name: "reports-only-draw",
      comment: "Reports draw results and the History: they compute nothing (no checker), and load no probe, schedule, run, CLI or fault runtime (fault/catalog.ts has the labels and colours, a target's plugin its strategy; no target runtime: see analysis-never-reaches-the-drill).",
      severity: "error",
      from: { path: folder("report") },
      to: { path: [folder("checker"), folder("probe"), folder("connection"), FAULT_RUNTIME, folder("schedule"), folder("run"), folder("cli"), file("analyze"), file("index"), file("api")] },
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
      comment: "Targets, connections, probes, faults and the schedule write the History; they never import the checkers, the gate, the reports or the analysis (only run/ hands a finished History on to analyze.ts). A target's own checks import the checker contract (checker/checker.ts) and nothing else of checker/.",
      severity: "error",
      from: { path: [folder("targets"), folder("connection"), folder("probe"), folder("fault"), folder("action"), folder("schedule")] },
      to: { path: ["^harness/checker/(?!checker\\.ts$)", folder("gate"), folder("report"), file("analyze"), file("trials")] },
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
      comment: "A target's plugin, the registry and the fault and action modules are read by the scenario schema (and so by every scenario file), validation, the checkers and the reports: nothing they reach, however indirectly (type-only included), is a target runtime, a Docker, Kubernetes or PostgreSQL package, a connection, probe, fault runtime, schedule, run or CLI.",
      severity: "error",
      from: { path: [TARGET_PLUGINS, FAULT_PURE, ACTION_PURE] },
      to: { path: DRILL_SIDE, reachable: true },
    },
    {
      name: "target-plugins-do-not-draw-or-judge",
      comment: "A plugin declares its checks and claims; it does not import the gate or the reports that judge and draw them.",
      severity: "error",
      from: { path: [TARGET_PLUGINS, FAULT_PURE, ACTION_PURE] },
      to: { path: [folder("gate"), folder("report"), file("analyze"), file("trials")] },
    },
    {
      name: "target-plugins-load-only-zod",
      comment: "The only package a plugin, or anything it reaches, may load is zod (its options schema).",
      severity: "error",
      from: { path: [TARGET_PLUGINS, FAULT_PURE, ACTION_PURE] },
      to: { path: "(^|/)node_modules/", pathNot: "(^|/)node_modules/zod/", reachable: true },
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
