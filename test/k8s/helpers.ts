/**
 * Helpers for the real Kubernetes tests (`npm run test:k8s`): kind, kubectl and the images built
 * by fixtures/kind/build.sh, found through the environment fixtures/kind/with-local-images.sh sets.
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { RunResult } from "../../harness/result.ts";

export function sh(command: string, args: string[], options: { kubeconfig?: string; input?: string } = {}): string {
  return execFileSync(command, [...(options.kubeconfig ? ["--kubeconfig", options.kubeconfig] : []), ...args], {
    encoding: "utf8",
    maxBuffer: 256 * 1024 * 1024,
    ...(options.input !== undefined ? { input: options.input } : {}),
  });
}

/** kind clusters pgdrill made (pgdrill-*) that still exist. */
export function pgdrillKindClusters(): string[] {
  const result = spawnSync("kind", ["get", "clusters"], { encoding: "utf8" });
  return result.stdout.split("\n").filter((line) => line.startsWith("pgdrill-"));
}

/** Docker containers that are kind nodes of pgdrill's clusters. */
export function pgdrillKindNodes(): string[] {
  return sh("docker", ["ps", "-a", "--filter", "label=io.x-k8s.kind.cluster", "--format", "{{.Names}}"])
    .split("\n")
    .filter((name) => name.startsWith("pgdrill-"));
}

export function readResult(runDir: string): RunResult {
  return JSON.parse(readFileSync(join(runDir, "result.json"), "utf8")) as RunResult;
}

export function requireLocalImages(): void {
  for (const name of ["PGDRILL_KIND_NODE_IMAGE", "PGDRILL_CNPG_MANIFEST", "PGDRILL_CNPG_POSTGRES_IMAGE"]) {
    if (!process.env[name]) throw new Error(`${name} is not set: run these tests with \`npm run test:k8s\` (fixtures/kind/with-local-images.sh sets it)`);
  }
  if (!existsSync(process.env.PGDRILL_CNPG_MANIFEST!)) throw new Error(`${process.env.PGDRILL_CNPG_MANIFEST} is missing: run bash fixtures/kind/build.sh`);
}

/** One line per drill for the test log: what the real run measured. */
export function describeRun(name: string, result: RunResult): string {
  const m = result.metrics;
  const anatomy = m.anatomy;
  return [
    `${name}: verdict ${result.verdict}`,
    `failover ${m.failover.happened ? `${m.failover.latencyMs} ms → ${m.failover.newPrimary}` : "none"}`,
    `recovery ${m.recovery.latencyMs ?? "-"} ms`,
    `downtime ${m.downtime.totalMs} ms`,
    `operator promoted after ${m.operator?.promotedAfterMs ?? "-"} ms`,
    `detected ${anatomy?.detectedAfterMs ?? "-"} ms, promoted ${anatomy?.promotedAfterMs ?? "-"} ms, clients back ${anatomy?.clientsRecoveredAfterMs ?? "-"} ms`,
    `lost writes ${m.writes.lostAcknowledged}/${m.writes.acknowledged}`,
    `split brain ${m.splitBrain.overlapMs} ms`,
  ].join("; ");
}
