/**
 * Teardown on a cluster pgdrill did not make deletes the namespace it created, and "removed" must
 * mean gone: a real API server answers the DELETE at once and keeps the namespace Terminating
 * until its pods have stopped and its volumes are released (about 20 s for a 3-instance Cluster on
 * kind, when pgdrill first ran on an existing cluster), while pgdrill had already said "removed
 * namespace …" and exited. The fake holds the namespace Terminating as the real one does.
 */
import { writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Kube, loadKube } from "../../harness/targets/cnpg/kube.ts";
import { FakeKubeApi } from "../fake-kube/fake-kube-api.ts";

let fake: FakeKubeApi;
let kube: Kube;

beforeEach(async () => {
  fake = new FakeKubeApi();
  const server = await fake.listen();
  const kubeconfig = join(tmpdir(), `pgdrill-namespace-gone-${process.pid}-${Date.now()}.yaml`);
  writeFileSync(kubeconfig, fake.kubeconfig(server, "namespace-gone"));
  kube = new Kube(loadKube({ kubeconfig }));
});

afterEach(async () => fake.close());

/** A DELETE leaves the namespace Terminating for `ms` (forever when null), as its finalizers run. */
function terminatesFor(ms: number | null): void {
  fake.onDelete((ref) => {
    if (ref.plural !== "namespaces") return;
    const current = fake.get("/api/v1", undefined, "namespaces", ref.name)!;
    fake.put("/api/v1", "namespaces", { ...current, metadata: { ...current.metadata, deletionTimestamp: new Date().toISOString() }, status: { phase: "Terminating" } } as typeof current);
    if (ms !== null) setTimeout(() => fake.remove("/api/v1", undefined, "namespaces", ref.name), ms);
  });
}

describe("deleting the drill's namespace waits until it is gone", () => {
  it("returns once the API server has removed it, not when it answered the DELETE", async () => {
    await kube.createNamespace("pgdrill-run", {});
    terminatesFor(600);
    const { outcome, waitedMs } = await kube.deleteNamespaceAndWait("pgdrill-run", 10_000, 50);
    expect(outcome).toBe("gone");
    expect(waitedMs).toBeGreaterThanOrEqual(550);
    expect(await kube.namespaceExists("pgdrill-run")).toBe(false);
  });

  it("says it is still terminating when it outlives the wait", async () => {
    await kube.createNamespace("pgdrill-stuck", {});
    terminatesFor(null);
    const { outcome, waitedMs } = await kube.deleteNamespaceAndWait("pgdrill-stuck", 300, 50);
    expect(outcome).toBe("terminating");
    expect(waitedMs).toBeGreaterThanOrEqual(300);
    expect(waitedMs).toBeLessThan(2000);
  });

  it("a namespace already gone is gone", async () => {
    expect((await kube.deleteNamespaceAndWait("never-there", 300, 50)).outcome).toBe("gone");
  });
});
