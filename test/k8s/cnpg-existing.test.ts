/**
 * The cnpg target on a cluster pgdrill did not make, as a user with their own cluster drills it: a
 * kind cluster made outside pgdrill (fixtures/kind/existing-cluster.sh, named drill-existing, not
 * pgdrill-…) with CloudNativePG installed by `kubectl apply --server-side` of its release manifest,
 * reached through its own kubeconfig file and context. pgdrill must refuse it until the scenario
 * names the context in allowContexts, then use the operator it finds (never install another),
 * probe from this machine (access: outside, NodePort Services), and leave every object it did not
 * create as it was and nothing it created behind. "As it was" is test/k8s/snapshot.ts: every
 * object of every listable resource, by uid and a digest of everything but status and the
 * server's own metadata; Events and Leases' renew/acquire times ignored (they change by
 * themselves). Run by `npm run test:k8s`; minutes.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pgdrill } from "../integration/helpers.ts";
import { describeRun, readResult, requireLocalImages, sh } from "./helpers.ts";
import { compareSnapshots, snapshotCluster, type Snapshot } from "./snapshot.ts";

const NAME = "drill-existing";
const CONTEXT = `kind-${NAME}`;
const script = resolve("fixtures/kind/existing-cluster.sh");
const kubeconfig = resolve(`.cache/kind/${NAME}.kubeconfig`);
const out = mkdtempSync(join(tmpdir(), "pgdrill-k8s-existing-"));

/** kind clusters named drill-existing (ours, left or current). */
function ourCluster(): boolean {
  return spawnSync("kind", ["get", "clusters"], { encoding: "utf8" }).stdout.split("\n").includes(NAME);
}

function existingCluster(command: "up" | "down"): string {
  const result = spawnSync("bash", [script, command, NAME], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const output = `${result.stdout}${result.stderr}`;
  if (result.status !== 0) throw new Error(`existing-cluster.sh ${command} ${NAME} failed (exit ${result.status}):\n${output}`);
  return output;
}

/** The scenario a user writes: scenarios/cnpg-kill-primary.ts with the target pointed at their cluster. */
function writeScenario(file: string, target: Record<string, unknown>): string {
  const path = join(out, file);
  const scenario = {
    name: "cnpg-existing-kill-primary",
    description: "cnpg-kill-primary on a cluster pgdrill did not make (fixtures/kind/existing-cluster.sh), probed from outside it.",
    target: { kind: "cnpg", context: CONTEXT, kubeconfig, instances: 3, ...target },
    probes: [
      { kind: "select1", every: "100ms", timeout: "1s" },
      { kind: "writes", every: "100ms", timeout: "2s" },
      { kind: "role", every: "500ms" },
    ],
    steadyState: { window: "10s", minAvailability: 1 },
    schedule: [{ at: "15s", fault: { kind: "kill", node: "primary" } }],
    duration: "90s",
    gate: { "operator.promotedAfterMs": "< 20000", "failover.latencyMs": "< 30000", "splitBrain.overlapMs": "== 0" },
  };
  writeFileSync(path, JSON.stringify(scenario, null, 2));
  return path;
}

/** Waits (polling every 5 s, up to `ms`) until `after()` shows no differences from `before`; returns the last differences and the wait. */
async function settled(before: Snapshot, ms: number): Promise<{ differences: string[]; waitedMs: number }> {
  const t0 = Date.now();
  for (;;) {
    const differences = compareSnapshots(before, snapshotCluster(kubeconfig));
    if (differences.length === 0 || Date.now() - t0 > ms) return { differences, waitedMs: Date.now() - t0 };
    await new Promise((resolve) => setTimeout(resolve, 5000));
  }
}

let before: Snapshot = new Map();
let setUp = "";

beforeAll(() => {
  requireLocalImages();
  // A drill-existing cluster left by an earlier run of this test is this test's own: start afresh.
  if (ourCluster()) existingCluster("down");
  setUp = existingCluster("up");
  console.log(setUp);
  before = snapshotCluster(kubeconfig);
});

afterAll(() => {
  if (ourCluster()) existingCluster("down");
  expect(ourCluster()).toBe(false);
});

describe("cnpg on a cluster pgdrill did not make (its own kubeconfig and context, CloudNativePG installed by the user)", { timeout: 1_800_000 }, () => {
  it("the cluster was made outside pgdrill, as a user makes it: kind, then CloudNativePG's release manifest applied server-side", () => {
    const created = /existing-cluster: kind cluster drill-existing up in (\d+) ms/.exec(setUp);
    const operator = /existing-cluster: CloudNativePG ready in (\d+) ms/.exec(setUp);
    expect(created).not.toBeNull();
    expect(operator).not.toBeNull();
    console.log(`existing cluster: kind cluster up in ${created![1]} ms, CloudNativePG installed and ready in ${operator![1]} ms; ${before.size} objects snapshotted`);
    expect(sh("kubectl", ["config", "current-context"], { kubeconfig }).trim()).toBe(CONTEXT);
    expect(sh("kubectl", ["-n", "cnpg-system", "get", "deployment", "cnpg-controller-manager", "-o", "jsonpath={.status.readyReplicas}"], { kubeconfig })).toBe("1");
    // The snapshot holds the user's objects: the operator, its CRDs, the system's pods and leases.
    const keys = [...before.keys()];
    expect(keys).toContain("apps/Deployment/cnpg-system/cnpg-controller-manager");
    expect(keys).toContain("apiextensions.k8s.io/CustomResourceDefinition//clusters.postgresql.cnpg.io");
    expect(keys.some((key) => key.startsWith("core/Pod/kube-system/kube-apiserver-"))).toBe(true);
    expect(keys.some((key) => key.startsWith("coordination.k8s.io/Lease/kube-node-lease/"))).toBe(true);
  });

  it("the comparison fails when an object is created, changed or deleted, and holds for an untouched cluster", () => {
    // On a copy: one object changed, one replaced, one gone, one new.
    const copy: Snapshot = new Map(before);
    const [changedKey, replacedKey, deletedKey] = ["apps/Deployment/cnpg-system/cnpg-controller-manager", "core/Namespace//default", "core/Namespace//kube-public"];
    const was = before.get(changedKey)!;
    copy.set(changedKey, { ...was, digest: "x", normalized: { ...was.normalized, metadata: { ...(was.normalized.metadata as object), labels: { touched: "yes" } } } });
    copy.set(replacedKey, { ...before.get(replacedKey)!, uid: "another" });
    copy.delete(deletedKey);
    copy.set("core/ConfigMap/default/new", { uid: "u", digest: "d", normalized: {} });
    expect(compareSnapshots(before, copy)).toEqual([
      `changed ${changedKey}: metadata.labels`,
      "created core/ConfigMap/default/new",
      `deleted ${deletedKey}`,
      `replaced ${replacedKey} (uid ${before.get(replacedKey)!.uid} → another)`,
    ]);
    // On the cluster: a ConfigMap made and a namespace labelled show, and are gone once undone.
    sh("kubectl", ["-n", "default", "create", "configmap", "snapshot-canary", "--from-literal=a=b"], { kubeconfig });
    sh("kubectl", ["label", "namespace", "default", "snapshot-canary=1"], { kubeconfig });
    try {
      expect(compareSnapshots(before, snapshotCluster(kubeconfig))).toEqual(["changed core/Namespace//default: metadata.labels", "created core/ConfigMap/default/snapshot-canary"]);
    } finally {
      sh("kubectl", ["-n", "default", "delete", "configmap", "snapshot-canary"], { kubeconfig });
      sh("kubectl", ["label", "namespace", "default", "snapshot-canary-"], { kubeconfig });
    }
    expect(compareSnapshots(before, snapshotCluster(kubeconfig))).toEqual([]);
  });

  it("without allowContexts pgdrill refuses the context before it creates anything (exit 2, naming target.context and allowContexts)", async () => {
    const scenario = writeScenario("refused.json", { access: "outside" });
    const run = pgdrill(["run", scenario, "--out", join(out, "refused")]);
    const { code } = await run.exit;
    const output = run.output();
    console.log(output);
    expect(code).toBe(2);
    expect(output).toContain("target.context");
    expect(output).toContain(`"${CONTEXT}" is not a kind cluster pgdrill made`);
    expect(output).toContain(`add "${CONTEXT}" to target.allowContexts`);
    // It never reached the cluster: no context line, no namespace, nothing changed.
    expect(output).not.toMatch(/cnpg: context /);
    expect(compareSnapshots(before, snapshotCluster(kubeconfig))).toEqual([]);
  });

  it("with allowContexts: uses the installed operator, deletes the primary pod, measures the failover from outside, and leaves the cluster as it was", async () => {
    const runDir = join(out, "drill");
    const scenario = writeScenario("drill.json", { allowContexts: [CONTEXT], access: "outside" });
    const t0 = Date.now();
    const run = pgdrill(["run", scenario, "--out", runDir]);
    const { code } = await run.exit;
    const output = run.output();
    console.log(output);
    const result = readResult(runDir);
    console.log(describeRun("cnpg-kill-primary on an existing cluster (access: outside)", result));
    console.log(`the drill took ${Date.now() - t0} ms`);
    // The operator the user installed, found and used; none installed over it.
    expect(output).toMatch(/cnpg: using the installed CloudNativePG/);
    expect(output).not.toMatch(/no CloudNativePG installed; installing/);
    expect(output).toContain(`cnpg: context ${CONTEXT} (`);
    expect(output).toMatch(/cnpg: probing from outside the cluster through \S+:\d+ \(rw\)/);
    // The failover, measured.
    const { failover, operator } = result.metrics;
    expect(result.verdict).not.toBe("errored");
    expect(failover.happened).toBe(true);
    expect(failover.newPrimary).not.toBeNull();
    expect(failover.newPrimary).not.toBe(failover.originalPrimary);
    expect(operator.promotedAfterMs).toEqual(expect.any(Number));
    expect(result.metrics.writes.lostAcknowledged).not.toBeNull();
    expect(code === 0 || code === 1).toBe(true);
    // Nothing of pgdrill's is left, and every object it did not create is as it was. pgdrill said
    // its namespace was removed only once it was gone (not Terminating); the volumes provisioned
    // for its PVCs are released by the provisioner after that, so the snapshot may take a moment.
    const namespace = `pgdrill-${result.runId.toLowerCase()}`.slice(0, 63);
    expect(output).toContain(`removed namespace ${namespace}\n`);
    expect(sh("kubectl", ["get", "namespace", namespace, "--ignore-not-found", "-o", "name"], { kubeconfig }).trim()).toBe("");
    const { differences, waitedMs } = await settled(before, 120_000);
    console.log(`the cluster was as before ${waitedMs} ms after pgdrill exited${differences.length ? `; still differing: ${differences.join("; ")}` : ""}`);
    expect(differences).toEqual([]);
    expect(sh("kubectl", ["get", "services", "--all-namespaces", "-l", "pgdrill.managed", "-o", "name"], { kubeconfig }).trim()).toBe("");
    expect(sh("kubectl", ["get", "persistentvolumes", "-o", "name"], { kubeconfig }).trim()).toBe("");
  });
});
