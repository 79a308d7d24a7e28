/**
 * The probe-runner image (fixtures/image/probe-runner.Dockerfile, built here by
 * fixtures/image/build-probe-runner.sh with no registry) run by the FAKE Kubernetes API's kubelet
 * (test/fake-kube/cnpg-world.ts) from the pod spec pgdrill generates (harness/targets/cnpg/runner/
 * pod.ts): its user, read-only root, /tmp, capabilities, limits and pgdrill's labels, the runner's
 * own hello saying what it runs on, and the kubelet's activeDeadlineSeconds ending it. `npm test`'s
 * set-up builds the image (fixtures/setup.sh --with-runner-image).
 */
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cnpgTarget, probe } from "../../harness/scenario/schema.ts";
import { Kube, loadKube } from "../../harness/targets/cnpg/kube.ts";
import { DEFAULT_RUNNER_IMAGE, runnerConfig, runnerPod } from "../../harness/targets/cnpg/runner/pod.ts";
import { parseRunnerLine, type HelloLine } from "../../harness/runner/protocol.ts";
import { CnpgWorld, type PodRuntime } from "../fake-kube/cnpg-world.ts";
import { FakeKubeApi } from "../fake-kube/fake-kube-api.ts";

const run = promisify(execFile);
const NS = "drill";
const POD = "pg-pgdrill-runner";
const RUN_ID = `imagetest${process.pid}`;
let fake: FakeKubeApi;
let world: CnpgWorld;
let kube: Kube;

beforeEach(async () => {
  fake = new FakeKubeApi();
  kube = new Kube(loadKube({ yaml: fake.kubeconfig(await fake.listen(), "fake-kube") }));
  world = new CnpgWorld(fake, { namespace: NS, cluster: "pg", instances: 2 });
  await kube.createNamespace(NS, {});
  // The Cluster's -app secret the pod's env reads (the operator would make it).
  fake.put("/api/v1", "secrets", { apiVersion: "v1", kind: "Secret", metadata: { name: "pg-app", namespace: NS }, data: { username: b64("app"), password: b64("secret-1") } });
});

afterEach(async () => {
  await world.close();
  await fake.close();
});

function b64(text: string): string {
  return Buffer.from(text).toString("base64");
}

async function waitFor(test: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const until = Date.now() + ms;
  while (!(await test())) {
    if (Date.now() > until) throw new Error(`timed out after ${ms} ms waiting for ${what}; the fake's log: ${world.log.join(" | ")}; the pod's stderr: ${world.podStderr.join("")}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const podStatus = () => (world.pod(POD) ?? fake.get("/api/v1", NS, "pods", POD))?.status as { phase?: string; reason?: string; conditions?: Array<{ type: string; status: string }> } | undefined;
const exists = async (container: string) => (await run("docker", ["ps", "-aq", "--filter", `name=^/${container}$`])).stdout.trim() !== "";

describe("the probe-runner image under the fake's kubelet", { timeout: 60_000 }, () => {
  it("runs as the pod spec says: uid 1000, read-only root, /tmp a tmpfs, no capabilities, its limits, pgdrill's labels; the runner says so itself; activeDeadlineSeconds ends it and its container", async () => {
    const target = cnpgTarget.parse({ kind: "cnpg", name: "pg", instances: 2 });
    // A lifetime the runner would not reach by itself: the kubelet's deadline must end it.
    const config = runnerConfig(target, NS, [probe.parse({ kind: "select1" })], { maxRunMs: 60_000, lifetimeMs: 300_000 });
    const pod = runnerPod(target, NS, config, { image: DEFAULT_RUNNER_IMAGE, runId: RUN_ID });
    // Long enough for the checks below on a loaded machine (CI builds kind beside the suite): a deadline that passed before
    // them would leave no container to inspect.
    pod.spec.activeDeadlineSeconds = 15;
    await kube.create(pod);
    await waitFor(() => (podStatus()?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True") || podStatus()?.phase === "Failed", 30_000, "the runner pod to be ready");
    const kubelet = world.log.find((line) => line.startsWith(`kubelet: pod ${NS}/${POD} `));
    console.log(kubelet);
    const runtime = world.processes.get(`${NS}/${POD}`)!.runtime as PodRuntime;
    // Not the local process: `bash fixtures/image/build-probe-runner.sh` (or fixtures/setup.sh --with-runner-image) builds the image.
    expect(runtime.how, kubelet).toBe("image");
    if (runtime.how !== "image") return;
    expect(kubelet).toMatch(new RegExp(`^kubelet: pod ${NS}/${POD} runs image ${DEFAULT_RUNNER_IMAGE} in container pgdrill-fake-${NS}-${POD}-[0-9a-f]{6} \\(uid 1000, read-only root, /tmp tmpfs, --network host; `));

    // What the engine was asked for, as the pod spec demands.
    const [inspected] = JSON.parse((await run("docker", ["inspect", runtime.container])).stdout) as Array<{ Config: { User: string; Image: string; Labels: Record<string, string> }; HostConfig: { ReadonlyRootfs: boolean; Tmpfs: Record<string, string>; CapDrop: string[]; SecurityOpt: string[]; Memory: number; NanoCpus: number; NetworkMode: string; AutoRemove: boolean } }>;
    expect(inspected!.Config.User).toBe("1000:1000");
    expect(inspected!.Config.Image).toBe(DEFAULT_RUNNER_IMAGE);
    expect(inspected!.HostConfig).toMatchObject({ ReadonlyRootfs: true, CapDrop: ["ALL"], SecurityOpt: ["no-new-privileges"], Memory: 256 * 1024 * 1024, NanoCpus: 1e9, NetworkMode: "host", AutoRemove: true });
    expect(inspected!.HostConfig.Tmpfs["/tmp"]).toBe(`rw,mode=1777,size=${64 * 1024 * 1024}`);
    // pgdrill's labels: what `pgdrill reap` filters on (pgdrill.managed) and decides orphans by (the owner's pid).
    expect(inspected!.Config.Labels).toMatchObject({ "pgdrill.managed": "true", "pgdrill.run": RUN_ID, "pgdrill.pid": String(process.pid), "pgdrill.node": POD });
    const byLabel = (await run("docker", ["ps", "--filter", "label=pgdrill.managed=true", "--filter", `label=pgdrill.run=${RUN_ID}`, "--format", "{{.Names}}"])).stdout.trim();
    expect(byLabel).toBe(runtime.container);

    // The runner's own word (its hello, the pod's first log line): Node 24, and the uid it runs as, which is not this test's.
    const hello = world.processes.get(`${NS}/${POD}`)!.log.split("\n").map(parseRunnerLine).find((line) => line?.type === "hello") as HelloLine | undefined;
    expect(hello?.runtime?.uid).toBe(1000);
    expect(process.getuid?.()).not.toBe(1000);
    expect(hello?.runtime?.node).toMatch(/^v24\.\d+\.\d+$/);
    // Its root is read-only, its /tmp writable (where the runner keeps its own History copy).
    const write = (path: string) => run("docker", ["exec", runtime.container, "node", "-e", `require("fs").writeFileSync(${JSON.stringify(path)}, "x")`]).then(() => "written", (error: { stderr?: string }) => String(error.stderr));
    expect(await write("/probe")).toMatch(/EROFS/);
    expect(await write("/tmp/probe")).toBe("written");

    // The kubelet ends it after activeDeadlineSeconds, and the container goes with it.
    await waitFor(() => podStatus()?.phase === "Failed", 25_000, "the deadline to end the pod");
    expect(podStatus()).toMatchObject({ phase: "Failed", reason: "DeadlineExceeded" });
    expect(world.log).toContain(`kubelet: pod ${NS}/${POD} passed its activeDeadlineSeconds (15 s)`);
    await waitFor(async () => !(await exists(runtime.container)), 10_000, "the container to be removed");
  });

  it("removes the container when the pod is deleted", async () => {
    const target = cnpgTarget.parse({ kind: "cnpg", name: "pg", instances: 2 });
    const config = runnerConfig(target, NS, [probe.parse({ kind: "select1" })], { maxRunMs: 60_000, lifetimeMs: 300_000 });
    await kube.create(runnerPod(target, NS, config, { image: DEFAULT_RUNNER_IMAGE, runId: RUN_ID }));
    await waitFor(() => (podStatus()?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True"), 30_000, "the runner pod to be ready");
    const runtime = world.processes.get(`${NS}/${POD}`)!.runtime;
    expect(runtime.how).toBe("image");
    if (runtime.how !== "image") return;
    expect(await exists(runtime.container)).toBe(true);
    await kube.deletePod(NS, POD, 1);
    expect(world.deletes).toContainEqual({ namespace: NS, name: POD, grace: 1 });
    await waitFor(async () => !(await exists(runtime.container)), 10_000, "the container to be removed");
    await waitFor(() => world.processes.get(`${NS}/${POD}`)!.ended, 5000, "the docker CLI attached to it to exit");
  });
});
