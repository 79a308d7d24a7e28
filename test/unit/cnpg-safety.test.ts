/**
 * The cnpg target on a cluster pgdrill did not create, against the FAKE Kubernetes API
 * (test/fake-kube): an operator installed by someone else is found whatever its name, the
 * manifest is never applied over it, a Cluster of the same name is a conflict (and left alone),
 * creating anything on a context needs allowContexts, an unfetchable manifest is one line, and
 * fencing inside a "*" fence is refused. Each refusal is asserted on the message and on what was
 * (not) asked of Kubernetes.
 */
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cnpgTarget } from "../../harness/scenario/schema.ts";
import { validateScenario } from "../../harness/scenario/validate.ts";
import { cnpgTopology } from "../../harness/targets/cnpg/cnpg.ts";
import { rfc3339Micro } from "../../harness/targets/cnpg/started.ts";
import { Kube, loadKube } from "../../harness/targets/cnpg/kube.ts";
import { detectOperator, loadOperatorManifest, planOperator } from "../../harness/targets/cnpg/operator.ts";
import { CnpgWorld } from "../fake-kube/cnpg-world.ts";
import { FakeKubeApi } from "../fake-kube/fake-kube-api.ts";

const NS = "team-db";
let fake: FakeKubeApi;
let kubeconfig: string;
let kube: Kube;

beforeEach(async () => {
  fake = new FakeKubeApi();
  const server = await fake.listen();
  kubeconfig = join(tmpdir(), `pgdrill-cnpg-safety-${process.pid}-${Date.now()}.yaml`);
  writeFileSync(kubeconfig, fake.kubeconfig(server, "shared-dev"));
  kube = new Kube(loadKube({ kubeconfig }));
});

afterEach(async () => fake.close());

const spec = (input: object = {}) => cnpgTarget.parse({ kind: "cnpg", context: "shared-dev", kubeconfig, allowContexts: ["shared-dev"], namespace: NS, name: "pg", startupTimeout: "5s", ...input });
const start = (input: object = {}) => cnpgTopology(spec(input)).start({ runId: "run1", scenario: "s", log: () => undefined });
const writes = () => fake.requests.filter((r) => r.method !== "GET");

describe("cnpg on a cluster pgdrill did not create", { timeout: 30_000 }, () => {
  it("finds an operator installed by Helm (another name, another namespace) by its label or image, and does not install over it", async () => {
    const world = new CnpgWorld(fake, { namespace: NS, cluster: "pg", instances: 2 });
    fake.put("/apis/apiextensions.k8s.io/v1", "customresourcedefinitions", { apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition", metadata: { name: "clusters.postgresql.cnpg.io" }, status: { conditions: [{ type: "Established", status: "True" }] } });
    world.installOperatorDeployment("cnpg-cloudnative-pg", "operators", { "app.kubernetes.io/name": "cloudnative-pg", "app.kubernetes.io/instance": "cnpg" });
    world.installOperatorDeployment("my-operator", "platform", {});
    const found = await detectOperator(kube);
    expect(found.crd).toBe(true);
    expect(found.deployments.map((d) => `${d.namespace}/${d.name}`)).toEqual(["operators/cnpg-cloudnative-pg", "platform/my-operator"]);
    expect(planOperator(spec().operator, found)).toMatchObject({ use: { namespace: "operators", name: "cnpg-cloudnative-pg" } });
    expect(() => planOperator(spec({ operator: { install: "always" } }).operator, found)).toThrow(
      /^target\.operator\.install: CloudNativePG is already installed \(the CRD clusters\.postgresql\.cnpg\.io, Deployment operators\/cnpg-cloudnative-pg .*\) and pgdrill never applies its manifest over an existing install\. Use install "if-missing" or "never"/,
    );
    // The CRD alone (an operator scaled away or removed): not a cluster to install over either.
    expect(() => planOperator(spec().operator, { crd: true, deployments: [] })).toThrow(/^target\.operator\.install: the CRD clusters\.postgresql\.cnpg\.io is installed but no CloudNativePG operator Deployment was found/);
    expect(() => planOperator(spec({ operator: { install: "never" } }).operator, { crd: false, deployments: [] })).toThrow(/^target\.operator\.install: no CloudNativePG operator is installed/);
    await world.close();
  });

  it("install: always over an existing operator stops before applying anything", async () => {
    const world = new CnpgWorld(fake, { namespace: NS, cluster: "pg", instances: 2 });
    world.installOperator();
    await expect(start({ operator: { install: "always" } })).rejects.toThrow(/^target\.operator\.install: CloudNativePG is already installed/);
    expect(writes()).toEqual([]);
    await world.close();
  });

  it("a Cluster of the same name in target.namespace is a conflict: a clear error, and it is neither applied over nor deleted", async () => {
    const world = new CnpgWorld(fake, { namespace: NS, cluster: "pg", instances: 2 });
    world.installOperator();
    fake.put("/api/v1", "namespaces", { apiVersion: "v1", kind: "Namespace", metadata: { name: NS } });
    fake.put("/apis/postgresql.cnpg.io/v1", "clusters", { apiVersion: "postgresql.cnpg.io/v1", kind: "Cluster", metadata: { name: "pg", namespace: NS, labels: { team: "db" } }, spec: { instances: 3 } });
    await expect(start()).rejects.toThrow(
      `target.name: a Cluster "pg" already exists in namespace ${NS} and pgdrill did not create it, so it will not apply over it or delete it. Choose another target.name or target.namespace (pgdrill creates pgdrill-<run id> when namespace is unset).`,
    );
    // The namespace existed (409), nothing else was written, nothing deleted.
    expect(writes().map((r) => `${r.method} ${r.path}`)).toEqual(["POST /api/v1/namespaces"]);
    expect(world.cluster()?.metadata.labels).toEqual({ team: "db" });
    await world.close();
  });

  it("on an existing context, creating anything needs allowContexts: refused at validation without any fault, and again at start before any request", async () => {
    expect(() => validateScenario({ name: "x", target: { kind: "cnpg", context: "shared-dev" }, probes: [{ kind: "select1" }], duration: "6s" }, "s.yaml")).toThrow(
      's.yaml: target.context: "shared-dev" is not a kind cluster pgdrill made, so pgdrill will not create its namespace, Cluster and services there or aim faults at it. If this cluster is meant for drills, add "shared-dev" to target.allowContexts.',
    );
    await expect(start({ allowContexts: [] })).rejects.toThrow('target.context: "shared-dev" is not a kind cluster pgdrill made');
    expect(fake.requests).toEqual([]);
  });

  it("a manifest that cannot be fetched is one line naming the field and the fix", async () => {
    const port = await closedPort();
    const url = `http://127.0.0.1:${port}/cnpg-1.30.0.yaml`;
    const error = await loadOperatorManifest({ version: "1.30.0", manifest: url, install: "if-missing", namespace: "cnpg-system" }).then(() => new Error("fetched"), (e: unknown) => e as Error);
    expect(error.message).toBe(
      `target.operator.manifest: cannot fetch the CloudNativePG manifest ${url} (ECONNREFUSED). Set target.operator.version to a released CloudNativePG version (github.com/cloudnative-pg/cloudnative-pg/releases), or target.operator.manifest to a local copy of its release YAML (offline: a local copy).`,
    );
    expect(error.message.split("\n")).toHaveLength(1);
    // On a cluster without CloudNativePG, start says just that line, having created nothing.
    await expect(start({ operator: { manifest: url } })).rejects.toThrow(/^target\.operator\.manifest: cannot fetch/);
    expect(writes()).toEqual([]);
  });

  it("writes targetPrimaryTimestamp as the operator does: RFC 3339 with microseconds, UTC", () => {
    expect(rfc3339Micro(Date.UTC(2026, 6, 1, 10, 0, 2, 123) + 0.4567)).toBe("2026-07-01T10:00:02.123456Z");
    expect(rfc3339Micro()).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
