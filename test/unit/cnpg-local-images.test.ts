/**
 * Images for a cnpg drill on a machine with no registry: the environment names locally built ones
 * as defaults (a scenario's own fields win), the operator manifest's images are found to load them
 * into kind, and where `docker run --privileged` fails kind's docker calls go through a stand-in
 * that rewrites that one flag and passes everything else through.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cnpgTarget } from "../../harness/scenario/schema.ts";
import { manifestImages, withImageDefaults } from "../../harness/targets/cnpg/images.ts";

const ENV = { PGDRILL_KIND_NODE_IMAGE: "pgdrill/kind-node:v1.34.4", PGDRILL_CNPG_MANIFEST: "/m/cnpg-1.30.0.yaml", PGDRILL_CNPG_POSTGRES_IMAGE: "pgdrill/cnpg-postgresql:15.18" };

describe("image defaults from the environment", () => {
  it("fills unset image fields and says which, from where", () => {
    const { spec, used } = withImageDefaults(cnpgTarget.parse({ kind: "cnpg" }), ENV);
    expect([spec.kindImage, spec.operator.manifest, spec.imageName]).toEqual(["pgdrill/kind-node:v1.34.4", "/m/cnpg-1.30.0.yaml", "pgdrill/cnpg-postgresql:15.18"]);
    expect(used).toEqual([
      "target.kindImage = pgdrill/kind-node:v1.34.4 (PGDRILL_KIND_NODE_IMAGE)",
      "target.operator.manifest = /m/cnpg-1.30.0.yaml (PGDRILL_CNPG_MANIFEST)",
      "target.imageName = pgdrill/cnpg-postgresql:15.18 (PGDRILL_CNPG_POSTGRES_IMAGE)",
    ]);
  });

  it("on an existing cluster takes no node image: pgdrill makes no kind cluster there", () => {
    const { spec, used } = withImageDefaults(cnpgTarget.parse({ kind: "cnpg", context: "kind-dev", allowContexts: ["kind-dev"] }), ENV);
    expect(spec.kindImage).toBeUndefined();
    expect(used.map((line) => line.split(" = ")[0])).toEqual(["target.operator.manifest", "target.imageName"]);
  });

  it("keeps what the scenario says, and changes nothing without the variables", () => {
    const own = cnpgTarget.parse({ kind: "cnpg", kindImage: "kindest/node:v1.33.1", imageName: "ghcr.io/cloudnative-pg/postgresql:17", operator: { manifest: "https://example.com/cnpg.yaml" } });
    expect(withImageDefaults(own, ENV)).toEqual({ spec: own, used: [] });
    const bare = cnpgTarget.parse({ kind: "cnpg" });
    expect(withImageDefaults(bare, { PGDRILL_CNPG_MANIFEST: "  " })).toEqual({ spec: bare, used: [] });
  });
});

describe("the images an operator manifest runs", () => {
  it("its Deployments' containers and OPERATOR_IMAGE_NAME, each once", () => {
    const deployment = {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "cnpg-controller-manager" },
      spec: { template: { spec: { containers: [{ image: "pgdrill/cloudnative-pg:1.30.0", env: [{ name: "OPERATOR_IMAGE_NAME", value: "pgdrill/cloudnative-pg:1.30.0" }, { name: "OTHER", value: "x" }] }], initContainers: [{ image: "busybox" }] } } },
    };
    expect(manifestImages([{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "c" } }, deployment])).toEqual(["pgdrill/cloudnative-pg:1.30.0", "busybox"]);
  });
});

describe("kind's docker stand-in (kind-docker-shim.sh)", () => {
  const dir = mkdtempSync(join(tmpdir(), "pgdrill-shim-"));
  const fakeDocker = join(dir, "docker-real");
  writeFileSync(fakeDocker, `#!/bin/sh\nprintf '%s\\n' "$@" > ${join(dir, "args")}\n`);
  chmodSync(fakeDocker, 0o755);
  const shim = (...args: string[]) => {
    execFileSync("bash", ["harness/targets/cnpg/kind-docker-shim.sh", ...args], { env: { ...process.env, PGDRILL_REAL_DOCKER: fakeDocker } });
    return readFileSync(join(dir, "args"), "utf8").trim().split("\n");
  };

  it("turns run --privileged into the capabilities the host can grant, keeping kind's own flags and the image last", () => {
    const kindArgs = ["--name", "n1", "--security-opt", "seccomp=unconfined", "--cgroupns=private", "--volume", "/var", "pgdrill/kind-node:v1.34.4"];
    const args = shim("run", "--privileged", ...kindArgs);
    const granted = ["--cap-add", "ALL", "--cap-drop", "SYS_RESOURCE", "--security-opt", "systempaths=unconfined", "--device-cgroup-rule", "a *:* rwm", ...(existsSync("/dev/kmsg") ? ["--device", "/dev/kmsg"] : [])];
    expect(args).toEqual(["run", ...granted, ...kindArgs]);
  });

  it("drops --privileged from exec, and passes every other call through unchanged", () => {
    expect(shim("exec", "--privileged", "node1", "cat", "/kind/version")).toEqual(["exec", "node1", "cat", "/kind/version"]);
    expect(shim("run", "--rm", "busybox", "true")).toEqual(["run", "--rm", "busybox", "true"]);
    expect(shim("inspect", "--privileged")).toEqual(["inspect", "--privileged"]);
  });
});
