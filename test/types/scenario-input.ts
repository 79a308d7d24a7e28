/**
 * Type tests, checked by `tsc --noEmit -p .` (never run): what a TypeScript scenario may say.
 * A line under `// @ts-expect-error` must fail to compile; if it compiles, tsc reports the unused
 * directive, so a loosened type fails the check.
 */
import { containerPair, defineScenario, fault, kill, netem, partition, pause, promote, role, selectOne, trackedWrites, type ScenarioInput } from "../../harness/index.ts";
import type { DurationText } from "../../harness/duration.ts";
import type { GateExpression } from "../../harness/gate/expression.ts";
import type { AlertGateMetric, GateMetric } from "../../harness/gate/metrics.ts";
import { GATE_METRICS } from "../../harness/gate/metrics.ts";

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const yes = <T extends true>(): T => true as T;

// ---- Must compile -------------------------------------------------------------------------------

export const everything = defineScenario({
  name: "types-ok",
  target: containerPair({ replication: "sync", startupTimeout: "1m30s" }),
  probes: [selectOne({ every: "20ms", timeout: "1.5s", connectTimeout: "500ms" }), trackedWrites({ every: "50ms" }), role({ every: "1s" })],
  steadyState: { window: "3s", minAvailability: 1 },
  schedule: [
    { at: "3s", for: "2m500ms", fault: partition({ between: ["primary", "standby"] }) },
    { at: "1h15m", fault: kill("primary") },
    { at: 0, fault: pause("standby") },
    { at: "6.5s", action: promote("standby", { after: 0 }) },
    { at: "7s", for: "5s", fault: netem("standby", { delay: "100ms", jitter: "10ms", loss: 1, rate: "10mbit" }) },
    { at: "1h2m3s4ms", action: { kind: "heal" } },
    // Any registered fault by its kind, with that fault's own options.
    { at: "8s", fault: fault("command", { run: "./failover.sh", timeout: "1m" }) },
  ],
  duration: "2h",
  gate: {
    "availability.ratio": ">= 0.5",
    "failover.latencyMs": "<30000",
    "writes.lostAcknowledged": "== 0",
    "latency.p99Ms": "<= 250.5",
    "splitBrain.overlapMs": "!= -1",
    "alerts.PostgresDown.firedAfterMs": "< 120000",
    "alerts.job:pg_up_ratio:low.resolvedAfterHealMs": "<= 60000",
  },
});

// Every metric in GATE_METRICS may be gated, and the alerts' family (alerts.<Alert>.firedAfterMs), and only those.
yes<Equal<GateMetric, keyof typeof GATE_METRICS | AlertGateMetric>>();
yes<Equal<keyof NonNullable<ScenarioInput["gate"]>, GateMetric>>();
yes<Equal<NonNullable<NonNullable<ScenarioInput["gate"]>["availability.ratio"]>, GateExpression>>();
yes<Equal<ScenarioInput["duration"], DurationText>>();

const durations: DurationText[] = [0, "0s", "30s", "500ms", "1.5m", "2h", "1m30s", "1h15m", "2m500ms", "1h30s", "1h5ms", "3s250ms", "1h1m1s", "1h1m1ms", "1h1s1ms", "1m1s1ms", "1h2m3s4ms"];
const expressions: GateExpression[] = [">= 0.99", ">=0.99", "< 30000", "<30000", "== 0", "!= 1", "<= 5", "> -1"];
void durations;
void expressions;

// A shared object needs `as const` (or a DurationText annotation) to keep its durations precise.
const shared = { every: "50ms", timeout: "1s" } as const;
export const withShared = defineScenario({ name: "shared", target: containerPair(), probes: [selectOne(shared)], duration: "10s" });

// ---- Must not compile ---------------------------------------------------------------------------

export const misspeltMetric = defineScenario({
  name: "bad",
  target: containerPair(),
  probes: [selectOne()],
  duration: "10s",
  gate: {
    // @ts-expect-error "failover.latency" is not a metric ("failover.latencyMs" is)
    "failover.latency": "< 3000",
  },
});

export const misspeltAlertFigure = defineScenario({
  name: "bad",
  target: containerPair(),
  probes: [selectOne()],
  duration: "10s",
  gate: {
    // @ts-expect-error an alert's figures are pendingAfterMs, firedAfterMs, notifiedAfterMs and resolvedAfterHealMs
    "alerts.PostgresDown.firedAfter": "< 3000",
  },
});

export const badExpression = defineScenario({
  name: "bad",
  target: containerPair(),
  probes: [selectOne()],
  duration: "10s",
  // @ts-expect-error a gate is a comparison and a number
  gate: { "availability.ratio": "about 0.9" },
});

// @ts-expect-error a bare number has no unit (it used to mean milliseconds)
selectOne({ every: 100 });
// @ts-expect-error "msec" is not a unit, and there is a space
selectOne({ every: "100 msec" });
// @ts-expect-error no unit at all
selectOne({ timeout: "100" });
// @ts-expect-error "d" is not a unit
promote("standby", { after: "1d" });

export const badDuration = defineScenario({
  name: "bad",
  target: containerPair(),
  probes: [selectOne()],
  // @ts-expect-error a bare number has no unit
  duration: 8000,
});

export const forZero = defineScenario({
  name: "bad",
  target: containerPair(),
  probes: [selectOne()],
  // @ts-expect-error `for` must be longer than 0 (omit it to keep the fault until the end)
  schedule: [{ at: "3s", for: 0, fault: kill("primary") }],
  duration: "10s",
});

export const misspeltKey = defineScenario({
  name: "bad",
  target: containerPair(),
  // @ts-expect-error "probe" is not a key ("probes" is)
  probe: [selectOne()],
  duration: "10s",
});

// A widened string is not a duration: the compiler cannot know it has a unit.
const widened: string = "10s";
// @ts-expect-error string is not DurationText
export const fromString: ScenarioInput = { name: "bad", target: containerPair(), probes: [selectOne()], duration: widened };

// A netem's delay is a duration, like every other.
// @ts-expect-error a bare number of milliseconds is not a duration
netem("standby", { delay: 100 });

// The generic fault builder knows each registered kind and its options.
// @ts-expect-error "explode" is no registered fault
fault("explode", {});
// @ts-expect-error a command needs "run"
fault("command", { heal: "./undo.sh" });
// @ts-expect-error the kill fault has no "mode" (stop has)
fault("kill", { node: "primary", mode: "fast" });
