/**
 * Network shaping (targets/shared/shaping.ts) on a real node: PostgreSQL as the container's PID 1,
 * as in a container pair, with its outbound traffic delayed, dropped and rate-capped. Times are
 * TCP connects from the host straight to the container's address: the SYN-ACK is the container's
 * outbound packet, so a connect takes one shaped trip. (The published port would go through
 * docker-proxy, which accepts on the host before the container is involved.)
 */
import { connect, createServer, type AddressInfo, type Server } from "node:net";
import { GenericContainer, Wait, type StartedTestContainer } from "testcontainers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HarnessError } from "../../harness/errors.ts";
import { LABELS, configureReaper, dockerClient, removeLabelled, runLabels } from "../../harness/targets/shared/docker.ts";
import { DELAYER_PIDFILE, SHAPE_QUEUE, applyShaping, removeShaping, type NodeShell, type ShapingMechanism } from "../../harness/targets/shared/shaping.ts";

const IMAGE = process.env.PGDRILL_IMAGE ?? "pgdrill/postgres:15-local";
const PG_PORT = 5432;
const runId = `shaping${Date.now().toString(36)}`;

let container: StartedTestContainer;
let address: string;
let shell: NodeShell;
/** What applyShaping should pick on this kernel: netem where it exists, else the fallback. */
let expected: ShapingMechanism;

async function exec(script: string): Promise<{ exitCode: number; output: string }> {
  const { exitCode, output } = await container.exec(["sh", "-c", script], { user: "root" });
  return { exitCode, output };
}

/** One TCP connect from the host, in ms, or null when none completes within timeoutMs. */
function connectMs(timeoutMs = 1000): Promise<number | null> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = connect({ host: address, port: PG_PORT });
    const finish = (ms: number | null) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ms);
    };
    const timer = setTimeout(() => finish(null), timeoutMs);
    socket.once("connect", () => finish(performance.now() - started));
    socket.once("error", () => finish(null));
  });
}

/** Median of `count` connects, each bounded; null when any of them failed. */
async function medianConnectMs(count = 7): Promise<number | null> {
  const times: number[] = [];
  for (let i = 0; i < count; i += 1) {
    const ms = await connectMs();
    if (ms === null) return null;
    times.push(ms);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

/** What shaping leaves in the node: rules in PGDRILL-SHAPE, delayer processes, the root qdisc. */
async function leftInNode(): Promise<{ rules: string[]; delayers: number; pidfile: boolean; rootQdisc: string }> {
  const rules = (await exec("iptables -w -S PGDRILL-SHAPE 2>/dev/null || true")).output.split("\n").filter((line) => line.startsWith("-A"));
  const delayers = Number((await exec("ps -e -o args= | grep -c '^python3 .*nfqueue-delay' || true")).output.trim());
  const pidfile = (await exec(`[ -f ${DELAYER_PIDFILE} ]`)).exitCode === 0;
  const rootQdisc = (await exec("tc qdisc show dev eth0 root")).output.trim();
  return { rules, delayers, pidfile, rootQdisc };
}

describe("network shaping on a node whose PID 1 is the postmaster", { timeout: 30_000 }, () => {
  beforeAll(async () => {
    const docker = await dockerClient();
    await configureReaper(docker);
    container = await new GenericContainer(IMAGE)
      .withName(`pgdrill-${runId}-node`)
      .withLabels({ ...runLabels(runId, "shaping-test"), [LABELS.node]: "node" })
      .withUser("postgres")
      .withAddedCapabilities("NET_ADMIN")
      // The local image's ready-made cluster, started as the bootstrap would: postgres as PID 1.
      .withEntrypoint(["/bin/sh", "-c", "cp -a /var/lib/postgresql/template /tmp/pgdata && exec postgres -D /tmp/pgdata -c listen_addresses='*'"])
      .withWaitStrategy(Wait.forLogMessage(/database system is ready to accept connections/))
      .withStartupTimeout(60_000)
      .start();
    address = container.getIpAddress(container.getNetworkNames()[0]!);
    shell = {
      name: "node",
      run: exec,
      copy: (content, path) => container.copyContentToContainer([{ content, target: path, mode: 0o644 }]),
    };
    const netem = await exec("tc qdisc add dev lo root handle 1: netem delay 1ms 2>&1 && tc qdisc del dev lo root");
    expected = netem.exitCode === 0 ? "netem" : "nfqueue";
  });

  afterAll(async () => {
    await removeLabelled(await dockerClient(), { runId });
  });

  it("removes nothing, and succeeds, when nothing was applied", async () => {
    await removeShaping(shell);
    await removeShaping(shell);
    const left = await leftInNode();
    expect(left).toEqual({ rules: [], delayers: 0, pidfile: false, rootQdisc: expect.stringMatching(/^qdisc \S+ 0: root/) });
  });

  it("delays outbound packets by 100 ms, and heal brings the baseline back", async () => {
    const baseline = await medianConnectMs();
    expect(baseline).not.toBeNull();

    const mechanism = await applyShaping(shell, { delayMs: 100, jitterMs: 0, lossPercent: 0 });
    expect(mechanism).toBe(expected);
    const delayed = await medianConnectMs();
    expect(delayed).not.toBeNull();
    expect(delayed! - baseline!).toBeGreaterThan(80);
    expect(delayed! - baseline!).toBeLessThan(200);

    await removeShaping(shell);
    const healed = await medianConnectMs();
    expect(healed).not.toBeNull();
    expect(healed!).toBeLessThan(20);
    expect(await leftInNode()).toEqual({ rules: [], delayers: 0, pidfile: false, rootQdisc: expect.stringMatching(/^qdisc \S+ 0: root/) });
    console.log(`shaping (${mechanism}): connect median ${baseline!.toFixed(1)} ms baseline, ${delayed!.toFixed(1)} ms delayed 100 ms, ${healed!.toFixed(1)} ms healed`);
  });

  it("replaces an earlier shaping instead of adding to it", async () => {
    await applyShaping(shell, { delayMs: 100, jitterMs: 0, lossPercent: 0 });
    await applyShaping(shell, { delayMs: 100, jitterMs: 0, lossPercent: 0 });
    const twice = await medianConnectMs();
    expect(twice).toBeGreaterThan(80);
    expect(twice).toBeLessThan(180);
    if (expected === "nfqueue") {
      const left = await leftInNode();
      expect(left.rules).toEqual([`-A PGDRILL-SHAPE -o eth0 -j NFQUEUE --queue-num ${SHAPE_QUEUE} --queue-bypass`]);
      expect(left.delayers).toBe(1);
    }
    await removeShaping(shell);
  });

  it("spreads delays with jitter", async () => {
    await applyShaping(shell, { delayMs: 100, jitterMs: 40, lossPercent: 0 });
    const times: number[] = [];
    for (let i = 0; i < 12; i += 1) times.push((await connectMs()) ?? Number.NaN);
    await removeShaping(shell);
    console.log(`shaping: 100 ± 40 ms jitter, connects ${times.map((ms) => ms.toFixed(0)).join(", ")} ms`);
    expect(times.every((ms) => ms >= 55 && ms <= 200)).toBe(true);
    expect(Math.max(...times) - Math.min(...times)).toBeGreaterThan(15);
  });

  it("drops everything at 100% loss, and connections work again after heal", async () => {
    await applyShaping(shell, { delayMs: 0, jitterMs: 0, lossPercent: 100 });
    const lost = await Promise.all([connectMs(800), connectMs(800), connectMs(800)]);
    expect(lost).toEqual([null, null, null]);
    await removeShaping(shell);
    expect(await medianConnectMs(3)).toBeLessThan(20);
  });

  it("caps the outbound rate", async () => {
    // The node sends 200 kB to a listener on the host through its bridge's gateway.
    const received: Server = createServer((socket) => {
      socket.on("data", () => undefined);
      socket.on("end", () => socket.end("k"));
    });
    await new Promise<void>((resolve) => received.listen(0, "0.0.0.0", resolve));
    try {
      const port = (received.address() as AddressInfo).port;
      const gateway = (await exec("ip route show default | awk '{print $3}'")).output.trim();
      const send = `python3 -c "import socket,time;s=socket.create_connection(('${gateway}',${port}),timeout=10);t=time.monotonic();s.sendall(b'x'*200000);s.shutdown(socket.SHUT_WR);s.recv(1);print(round(time.monotonic()-t,3))"`;
      const free = Number((await exec(send)).output.trim());
      await applyShaping(shell, { delayMs: 0, jitterMs: 0, lossPercent: 0, rateKbit: 800 });
      const capped = Number((await exec(send)).output.trim());
      await removeShaping(shell);
      console.log(`shaping: 200 kB out in ${free} s unshaped, ${capped} s at 800 kbit/s`);
      // 200 kB at 100 kB/s: about 2 s, less the burst.
      expect(free).toBeLessThan(0.5);
      expect(capped).toBeGreaterThan(1.2);
      expect(capped).toBeLessThan(5);
      expect((await leftInNode()).rootQdisc).toMatch(/^qdisc \S+ 0: root/);
    } finally {
      received.close();
    }
  });

  it("lets traffic through when the delayer dies, and PostgreSQL does not notice its death", async () => {
    await applyShaping(shell, { delayMs: 100, jitterMs: 0, lossPercent: 0 }, { mechanism: "nfqueue" });
    expect(await medianConnectMs(3)).toBeGreaterThan(80);
    // SIGKILL, as the OOM killer would: the rule stays, --queue-bypass lets packets pass.
    expect((await exec(`kill -KILL $(cat ${DELAYER_PIDFILE})`)).exitCode).toBe(0);
    expect(await medianConnectMs(3)).toBeLessThan(20);
    await removeShaping(shell);
    expect(await leftInNode()).toEqual({ rules: [], delayers: 0, pidfile: false, rootQdisc: expect.stringMatching(/^qdisc \S+ 0: root/) });
  });

  it("names the node and the fix when a shaping cannot be applied", async () => {
    const noCopy: NodeShell = { name: "node", run: exec };
    const error = await applyShaping(noCopy, { delayMs: 50, jitterMs: 0, lossPercent: 0 }, { mechanism: "nfqueue" }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HarnessError);
    expect((error as Error).message).toMatch(/^node: cannot shape the network on eth0: .*cannot copy its packet delayer/);
    await expect(applyShaping(shell, { delayMs: 50, jitterMs: 0, lossPercent: 0 }, { device: "eth9" })).rejects.toThrow(/node: there is no network device eth9/);
  });

  it("never crashed PostgreSQL: the delayer's exits went to its wrapper, not to the postmaster", async () => {
    const docker = await dockerClient();
    const logs = String(await docker.getContainer(container.getId()).logs({ stdout: true, stderr: true }));
    expect(logs).not.toMatch(/terminated by signal|all server processes terminated|exited with exit code/);
    expect(await medianConnectMs(3)).toBeLessThan(20);
  });
});
