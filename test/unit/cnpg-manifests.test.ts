/**
 * What the cnpg target would create, read as data: the Cluster (the seed guide's, scaled down),
 * the Services access: outside uses, the kind config; and the operator install, applied to the FAKE
 * Kubernetes API (test/fake-kube) and read back from its request log.
 */
import { afterEach, describe, expect, it } from "vitest";
import { cnpgTarget } from "../../harness/scenario/schema.ts";
import { Kube, loadKube } from "../../harness/targets/cnpg/kube.ts";
import { clusterManifest, instanceNodePortServices, kindConfig, operatorManifestUrl, SEED_PARAMETERS } from "../../harness/targets/cnpg/manifests.ts";
import { installOperator, loadOperatorManifest } from "../../harness/targets/cnpg/operator.ts";
import { isPgdrillKindContext, mayDisrupt } from "../../harness/targets/cnpg/safety.ts";
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

  it("in-cluster (the default) asks the operator for nothing more; access: outside declares two NodePort Services the operator owns", () => {
    expect(target().access).toBe("in-cluster");
    expect(clusterManifest(target(), "ns", "r").spec.managed).toBeUndefined();
    expect(clusterManifest(target({ name: "main", access: "outside" }), "ns", "r").spec.managed).toEqual({
      services: {
        additional: [
          { selectorType: "rw", updateStrategy: "patch", serviceTemplate: { metadata: { name: "main-pgdrill-rw", labels: { "pgdrill.managed": "true" } }, spec: { type: "NodePort" } } },
          { selectorType: "ro", updateStrategy: "patch", serviceTemplate: { metadata: { name: "main-pgdrill-ro", labels: { "pgdrill.managed": "true" } }, spec: { type: "NodePort" } } },
        ],
      },
    });
  });

  it("access: outside: one NodePort Service per instance for the role probe, its port left to the API server", () => {
    const services = instanceNodePortServices(target({ name: "main", access: "outside" }), "ns");
    expect(services.map((s) => [s.metadata.name, s.spec.type, s.spec.selector, s.spec.ports[0]])).toEqual(
      [1, 2, 3].map((i) => [`main-pgdrill-${i}`, "NodePort", { "cnpg.io/cluster": "main", "cnpg.io/instanceName": `main-${i}` }, { name: "postgres", port: 5432, targetPort: 5432, protocol: "TCP" }]),
    );
  });

  it("refuses the old access object and a bad runner image, naming the field and the fix", () => {
    const refused = (input: object) => {
      const parsed = cnpgTarget.safeParse({ kind: "cnpg", ...input });
      expect(parsed.success).toBe(false);
      return parsed.error!.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`).join("; ");
    };
    expect(refused({ access: { nodePortBase: 31000 } })).toMatch(/^access: must be "in-cluster" .* or "outside" .*NodePorts are allocated by the API server, and the node address is target\.outside\.host$/);
    expect(refused({ runner: { image: "Not An Image" } })).toMatch(/^runner\.image: must be a container image reference like "pgdrill\/probe-runner:/);
    expect(refused({ runner: { tag: "x" } })).toMatch(/^runner: /);
    expect(target().runner.image).toMatch(/^pgdrill\/probe-runner:\d+\.\d+\.\d+/);
  });

  it("the kind config keeps the user's nodes and maps no ports (nothing is reached at a fixed host port)", () => {
    const config = kindConfig({ nodes: [{ role: "control-plane" }, { role: "worker" }] });
    expect(config.nodes).toEqual([{ role: "control-plane" }, { role: "worker" }]);
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
