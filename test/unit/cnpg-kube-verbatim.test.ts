/**
 * pgdrill sends the objects it creates and applies exactly as it holds them. A real kind cluster
 * (Kubernetes v1.34.4) refused CloudNativePG 1.30's release manifest as pgdrill first applied it:
 * the client library's typed models had dropped every `x-kubernetes-int-or-string: true` from the
 * Cluster CRD, and the API server answered 422 "type: Required value". The fake API now checks
 * that rule as the real one does.
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
  const kubeconfig = join(tmpdir(), `pgdrill-verbatim-${process.pid}-${Date.now()}.yaml`);
  writeFileSync(kubeconfig, fake.kubeconfig(server, "verbatim"));
  kube = new Kube(loadKube({ kubeconfig }));
});

afterEach(async () => fake.close());

/** A CRD with the shape that broke: an int-or-string property with no type, as the release manifest has it (ephemeralVolumesSizeLimit.shm). */
const crd = (intOrString: boolean) => ({
  apiVersion: "apiextensions.k8s.io/v1",
  kind: "CustomResourceDefinition",
  metadata: { name: "widgets.example.com" },
  spec: {
    group: "example.com",
    names: { kind: "Widget", plural: "widgets" },
    scope: "Namespaced",
    versions: [
      {
        name: "v1",
        served: true,
        storage: true,
        schema: {
          openAPIV3Schema: {
            type: "object",
            properties: {
              spec: {
                type: "object",
                properties: { shm: { anyOf: [{ type: "integer" }, { type: "string" }], pattern: "^[0-9]+$", ...(intOrString ? { "x-kubernetes-int-or-string": true } : {}) } },
              },
            },
          },
        },
      },
    ],
  },
});

describe("objects reach the API server as pgdrill built them", () => {
  it("a server-side apply keeps a CRD's x-kubernetes-int-or-string, which the typed client dropped", async () => {
    await kube.apply(crd(true));
    const applied = fake.requests.find((r) => r.method === "PATCH" && r.path === "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com");
    expect(applied?.contentType).toBe("application/apply-patch+yaml");
    expect(applied?.query).toMatchObject({ fieldManager: "pgdrill", force: "false" });
    const shm = (applied?.body as ReturnType<typeof crd>).spec.versions[0]!.schema.openAPIV3Schema.properties.spec.properties.shm;
    expect(shm).toEqual({ anyOf: [{ type: "integer" }, { type: "string" }], pattern: "^[0-9]+$", "x-kubernetes-int-or-string": true });
  });

  it("the fake refuses what the real API server refused: an untyped property that is not int-or-string", async () => {
    await expect(kube.apply(crd(false))).rejects.toMatchObject({ code: 422 });
    await expect(kube.create(crd(false))).rejects.toMatchObject({ code: 422 });
    await kube.create(crd(true));
    expect(fake.requests.filter((r) => r.method === "POST").map((r) => r.path)).toEqual(["/apis/apiextensions.k8s.io/v1/customresourcedefinitions", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"]);
  });
});
