/**
 * What the cnpg target would create, read as data: the Cluster (the seed guide's, scaled down),
 * the NodePort services, the kind config; and the operator install, applied to the FAKE
 * Kubernetes API (test/fake-kube) and read back from its request log.
 */
import { afterEach, describe, expect, it } from "vitest";
import { cnpgTarget } from "../../harness/scenario/schema.ts";
import { Kube, loadKube } from "../../harness/target/cnpg/kube.ts";
import { clusterManifest, kindConfig, operatorManifestUrl, SEED_PARAMETERS, serviceManifests } from "../../harness/target/cnpg/manifests.ts";
import { installOperator, loadOperatorManifest } from "../../harness/target/cnpg/operator.ts";
import { isPgdrillKindContext, mayDisrupt } from "../../harness/target/cnpg/safety.ts";
import { FakeKubeApi } from "../fake-kube/fake-kube-api.ts";

const target = (input: object = {}) => cnpgTarget.parse({ kind: "cnpg", ...input });

describe("cnpg manifests", () => {
  it("a Cluster like the seed guide's: 3 instances, its parameters scaled down, user parameters and spec merged over", () => {
    const manifest = clusterManifest(target({ parameters: { max_connections: "50" }, spec: { postgresql: { pg_hba: ["host all all all md5"] } } }), "ns", "run1");
    expect(manifest).toMatchObject({ apiVersion: "postgresql.cnpg.io/v1", kind: "Cluster", metadata: { name: "pgdrill", namespace: "ns", labels: { "pgdrill.run": "run1" } } });
    expect(manifest.spec).toMatchObject({ instances: 3, primaryUpdateStrategy: "unsupervised", enableSuperuserAccess: true, storage: { size: "1Gi" } });
    const postgresql = manifest.spec.postgresql as { parameters: Record<string, string>; pg_hba: string[]; synchronous?: unknown };
    expect(postgresql.parameters).toEqual({ ...SEED_PARAMETERS, max_connections: "50" });
    expect(postgresql.pg_hba).toEqual(["host all all all md5"]);
    expect(postgresql.synchronous).toBeUndefined();
  });

  it("sync replication asks one replica to confirm each commit", () => {
    const postgresql = clusterManifest(target({ replication: "sync" }), "ns", "r").spec.postgresql as { synchronous: unknown };
    expect(postgresql.synchronous).toEqual({ method: "any", number: 1 });
  });

  it("NodePort services select as the operator's rw and ro services do, plus one per instance", () => {
    const services = serviceManifests(target({ name: "main", access: { nodePortBase: 31000 } }), "ns");
    expect(services.map((s) => [s.metadata.name, s.spec.selector, s.spec.ports[0]!.nodePort])).toEqual([
      ["main-pgdrill-rw", { "cnpg.io/cluster": "main", "cnpg.io/instanceRole": "primary" }, 31000],
      ["main-pgdrill-ro", { "cnpg.io/cluster": "main", "cnpg.io/instanceRole": "replica" }, 31001],
      ["main-pgdrill-1", { "cnpg.io/cluster": "main", "cnpg.io/instanceName": "main-1" }, 31002],
      ["main-pgdrill-2", { "cnpg.io/cluster": "main", "cnpg.io/instanceName": "main-2" }, 31003],
      ["main-pgdrill-3", { "cnpg.io/cluster": "main", "cnpg.io/instanceName": "main-3" }, 31004],
    ]);
  });

  it("the kind config maps every NodePort to 127.0.0.1 on the first node and keeps the user's nodes", () => {
    const config = kindConfig({ nodes: [{ role: "control-plane" }, { role: "worker" }] }, target({ instances: 2 }));
    expect(config.nodes).toEqual([
      { role: "control-plane", extraPortMappings: [30430, 30431, 30432, 30433].map((port) => ({ containerPort: port, hostPort: port, listenAddress: "127.0.0.1", protocol: "TCP" })) },
      { role: "worker" },
    ]);
  });

  it("pins a released operator (1.30.0: the v1.30.0 tag and releases/cnpg-1.30.0.yaml exist, no 1.30.1) by its release asset", () => {
    expect(target().operator.version).toBe("1.30.0");
    expect(operatorManifestUrl("1.30.0")).toBe("https://github.com/cloudnative-pg/cloudnative-pg/releases/download/v1.30.0/cnpg-1.30.0.yaml");
  });

  it("aims faults only at kind clusters pgdrill made or at allow-listed contexts", () => {
    expect(isPgdrillKindContext("kind-pgdrill-20261125-0512-ab12")).toBe(true);
    expect(isPgdrillKindContext("kind-dev")).toBe(false);
    expect(mayDisrupt({ allowContexts: [] }, "kind-dev")).toBe(false);
    expect(mayDisrupt({ allowContexts: ["kind-dev"] }, "kind-dev")).toBe(true);
    expect(mayDisrupt({ allowContexts: ["kind-dev"] }, "prod")).toBe(false);
  });
});

describe("operator install on the fake Kubernetes API", () => {
  let fake: FakeKubeApi | null = null;
  afterEach(async () => fake?.close());

  it("applies the release manifest's objects in order, server-side as field manager pgdrill, never forcing conflicts", async () => {
    fake = new FakeKubeApi();
    const kube = new Kube(loadKube({ yaml: fake.kubeconfig(await fake.listen(), "fake-kube") }));
    const objects = await loadOperatorManifest({ version: "1.30.0", manifest: "test/fixtures/cnpg/operator-excerpt.yaml", install: "always", namespace: "cnpg-system" });
    await installOperator(kube, objects, () => undefined);
    const applies = fake.requests.filter((r) => r.method === "PATCH");
    expect(applies.map((r) => r.path)).toEqual([
      "/api/v1/namespaces/cnpg-system",
      "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/clusters.postgresql.cnpg.io",
      "/apis/apps/v1/namespaces/cnpg-system/deployments/cnpg-controller-manager",
    ]);
    for (const request of applies) {
      expect(request.contentType).toBe("application/apply-patch+yaml");
      expect(request.query).toMatchObject({ fieldManager: "pgdrill" });
      expect(request.query.force).not.toBe("true");
    }
    expect(fake.get("/apis/apps/v1", "cnpg-system", "deployments", "cnpg-controller-manager")?.metadata.labels).toEqual({ "app.kubernetes.io/name": "cloudnative-pg" });
  });

  it("refuses a manifest file that is not there, naming the field", async () => {
    await expect(loadOperatorManifest({ version: "1.30.0", manifest: "no/such.yaml", install: "always", namespace: "cnpg-system" })).rejects.toThrow(
      'target.operator.manifest: cannot read "no/such.yaml". Give an https URL or a path to the release YAML.',
    );
  });
});
