/**
 * Target: a Patroni cluster in containers on a private Docker network, all from pgdrill's image:
 * etcd members (Patroni's DCS, v3 API), N PostgreSQL nodes each run by Patroni (REST API on 8008),
 * and HAProxy in front, sending rw clients to the node whose Patroni answers GET /primary and ro
 * clients to those answering GET /replica. Every port is published on 127.0.0.1 only, so probes
 * reach rw/ro through HAProxy and each node directly, and the observer polls the REST APIs and
 * HAProxy's stats socket from the host. Patroni decides failovers; faults act on the node
 * containers as on the container pair's (SIGKILL, PostgreSQL's shutdown signals, the cgroup
 * freezer, iptables and shaping in the node's network namespace), and a switchover is Patroni's
 * own `POST /switchover`, as patronictl sends it.
 */
import { randomBytes } from "node:crypto";
import { GenericContainer, Wait, type StartedTestContainer } from "testcontainers";
import { toMs } from "../../duration.ts";
import { HarnessError, InputError, errorMessage } from "../../errors.ts";
import type { Endpoint } from "../../connection/endpoint.ts";
import { LOCAL_IMAGE } from "../container-pair/image.ts";
import { LABELS, dockerForRun, removeLabelled, runLabels, type Docker } from "../shared/docker.ts";
import { ContainerNodeControls, PrivateNetworkContainer, type ContainerNode } from "../shared/container-node.ts";
import { done, notYet, pollUntil } from "../shared/poll.ts";
import type { ControlsOf, StartedTopology, StopMode, Topology, TopologyStartOptions } from "../types.ts";
import type { ManagedProcess } from "./faults/process.ts";
import { DATA_DIR, HAPROXY_NAME, HAPROXY_PORTS, PG_PORT, REST_PORT, etcdArguments, haproxyConfig, patroniYaml, type Secrets } from "./config.ts";
import { PatroniObserver, httpJson, getJson, normaliseRole, upServers, type PatroniObservation, type Picture } from "./observer.ts";
import { etcdMemberNames, patroniNodeNames, patroniPlugin, targetProblems, type PatroniTarget } from "./plugin.ts";

/** A switchover must finish within the schedule's per-step limit (60 s). */
const SWITCHOVER_TIMEOUT_MS = 55_000;
const STARTING = /pgdrill-patroni: starting/;

type PatroniCapability = (typeof patroniPlugin.capabilities)[number];

export function patroniTopology(spec: PatroniTarget): Topology {
  // Validation refuses these with the field and fix; a topology built in code gets the same words.
  const problems: InputError[] = [];
  targetProblems(spec, (path, problem, fix) => problems.push(new InputError(path.join("."), problem, fix)));
  if (problems[0]) throw problems[0];
  const nodes = patroniNodeNames(spec);
  return {
    kind: "patroni",
    nodes,
    // pg1 bootstraps the cluster (the other nodes' Patroni waits for its PostgreSQL), so it is the first leader.
    initialPrimary: nodes[0]!,
    start: (options) => startPatroni(spec, options),
  };
}

/**
 * Each container's entrypoint: refuse an image without the tool, write the config from the
 * environment, exec the tool. `waitFor`: a PostgreSQL host to wait for first (bounded), so the
 * other nodes' Patroni starts once pg1 has bootstrapped the cluster and pg1 is the first leader.
 */
function entrypoint(tool: "patroni" | "haproxy" | "etcd", config: string | null, exec: string, waitFor?: { host: string; seconds: number }, child = false): string {
  const tries = waitFor ? Math.max(1, Math.ceil(waitFor.seconds * 10)) : 0;
  return [
    "set -eu",
    `command -v ${tool} >/dev/null || { echo "pgdrill-patroni: no ${tool} in this image: use pgdrill's local image (bash fixtures/image/build-local-image.sh) or set target.image to one with patroni, etcd, haproxy and PostgreSQL"; exit 3; }`,
    // The PostgreSQL binaries, Debian layout, for Patroni (which finds them on PATH).
    'bin=$(dirname "$(command -v postgres 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/postgres 2>/dev/null | sort -V | tail -n 1 || echo /usr/bin/postgres)")',
    'PATH="$bin:$PATH"; export PATH',
    "umask 077",
    "mkdir -p /tmp/pgdrill",
    ...(config ? [`printf '%s\\n' "$PGDRILL_CONFIG" > ${config}`, "unset PGDRILL_CONFIG"] : []),
    `echo "pgdrill-patroni: starting ${tool} as $PGDRILL_NODE"`,
    ...(waitFor
      ? [
          "tries=0",
          `until pg_isready -q -h ${waitFor.host} -p ${PG_PORT}; do`,
          "  tries=$((tries + 1))",
          `  [ "$tries" -lt ${tries} ] || { echo "pgdrill-patroni: ${waitFor.host} did not bootstrap the cluster within ${waitFor.seconds} s"; exit 1; }`,
          "  sleep 0.1",
          "done",
        ]
      : []),
    ...(child
      ? [
          // Patroni runs as a child, not as PID 1, so it can be killed or frozen alone while its
          // PostgreSQL runs on (unmanaged) and the container stays; the same script starts it again.
          // The PATH is written as it is now (with PostgreSQL's binaries), for a start from docker exec;
          // its output goes to PID 1's (the container's log), not to an exec session that ends.
          `printf '%s\\n' '#!/bin/sh' "PATH=$PATH; export PATH" '${exec} >/proc/1/fd/1 2>/proc/1/fd/2 &' 'echo $! > ${MANAGER_PID}' > ${MANAGER_START}`,
          `chmod 700 ${MANAGER_START}`,
          MANAGER_START,
          "exec sleep infinity",
        ]
      : [`exec ${exec}`]),
  ].join("\n");
}

/** Where a node's entrypoint keeps Patroni's pid, and the script that starts it (again). */
const MANAGER_PID = "/tmp/pgdrill/patroni.pid";
const MANAGER_START = "/tmp/pgdrill/start-patroni.sh";

interface ClusterNode extends ContainerNode {
  pgPort: number;
  restPort: number;
}

async function startPatroni(spec: PatroniTarget, options: TopologyStartOptions): Promise<StartedTopology> {
  const docker = await dockerForRun(options.log);
  const image = options.image ?? spec.image ?? LOCAL_IMAGE;
  const because = options.image ? "--image" : spec.image ? "the scenario's target.image" : "pgdrill's local image";
  if ((await docker.listImages({ filters: { reference: [image] } })).length === 0 && image === LOCAL_IMAGE) {
    throw new HarnessError(`the patroni target needs ${LOCAL_IMAGE} (patroni, etcd and haproxy from Debian packages) and it is not on this machine: run \`bash fixtures/setup.sh\`, or \`bash fixtures/image/build-local-image.sh\` as root`);
  }
  options.log(`patroni: image ${image} (${because})`);

  const labels = runLabels(options.runId, options.scenario);
  const networkName = `pgdrill-${options.runId}`;
  const secrets: Secrets = { superuser: secret(), replication: secret() };
  const startupMs = toMs(spec.startupTimeout);
  const deadline = Date.now() + startupMs;
  let observer: PatroniObserver | null = null;
  try {
    await docker.createNetwork({ Name: networkName, Driver: "bridge", CheckDuplicate: true, Labels: labels });
    const ours = (name: string, script: string, environment: Record<string, string>) =>
      new PrivateNetworkContainer(image, networkName, name)
        .withName(`pgdrill-${options.runId}-${name}`)
        .withLabels({ ...labels, [LABELS.node]: name })
        .withUser("postgres")
        .withEnvironment({ PGDRILL_NODE: name, ...environment })
        .withEntrypoint(["/bin/sh", "-c", script, "pgdrill-patroni"])
        .withStartupTimeout(startupMs);
    const t0 = Date.now();

    // etcd first: Patroni waits 5 s between tries when its DCS does not answer at start.
    const token = `pgdrill-${options.runId}`;
    const dcsMembers = await Promise.all(
      etcdMemberNames(spec).map(async (member): Promise<DcsMember> => {
        const container = await startNamed(docker, ours(member, entrypoint("etcd", null, etcdArguments(spec, member, token).join(" ")), {}).withWaitStrategy(Wait.forLogMessage(/serving client traffic|ready to serve client requests/)), member);
        return { name: member, id: container.getId(), ip: container.getIpAddress(networkName) };
      }),
    );
    options.log(`patroni: etcd (${spec.dcs.members} member${spec.dcs.members === 1 ? "" : "s"}) up in ${Date.now() - t0} ms`);

    const bootstrapper = patroniNodeNames(spec)[0]!;
    const pgNodes = await Promise.all(
      patroniNodeNames(spec).map(async (name) => {
        const waitFor = name === bootstrapper ? undefined : { host: bootstrapper, seconds: Math.ceil(startupMs / 1000) };
        const container = await startNamed(
          docker,
          ours(name, entrypoint("patroni", "/tmp/pgdrill/patroni.yml", "patroni /tmp/pgdrill/patroni.yml", waitFor, true), { PGDRILL_CONFIG: patroniYaml(spec, name, secrets) })
            .withInit()
            .withExposedPorts(PG_PORT, REST_PORT)
            .withAddedCapabilities("NET_ADMIN")
            .withWaitStrategy(Wait.forLogMessage(STARTING)),
          name,
        );
        return { name, container, pgPort: container.getMappedPort(PG_PORT), restPort: container.getMappedPort(REST_PORT), ip: container.getIpAddress(networkName) } satisfies ClusterNode;
      }),
    );
    const haproxy = await startNamed(
      docker,
      ours(HAPROXY_NAME, entrypoint("haproxy", "/tmp/pgdrill/haproxy.cfg", "haproxy -db -f /tmp/pgdrill/haproxy.cfg"), { PGDRILL_CONFIG: haproxyConfig(spec) })
        .withExposedPorts(HAPROXY_PORTS.rw, HAPROXY_PORTS.ro, HAPROXY_PORTS.stats)
        .withWaitStrategy(Wait.forLogMessage(STARTING)),
      HAPROXY_NAME,
    );
    options.log(`patroni: ${pgNodes.length} Patroni nodes and HAProxy started in ${Date.now() - t0} ms`);
    if (options.signal?.aborted) throw new Error("interrupted while starting");

    const record: (observation: PatroniObservation) => void = options.record ?? (() => undefined);
    observer = new PatroniObserver({
      apis: Object.fromEntries(pgNodes.map((node) => [node.name, `http://127.0.0.1:${node.restPort}`])),
      stats: { host: "127.0.0.1", port: haproxy.getMappedPort(HAPROXY_PORTS.stats) },
      record,
      log: options.log,
    });
    observer.start();
    const watching = observer;
    const nodeNames = pgNodes.map((node) => node.name);
    await watching.waitUntil(() => healthy(watching.picture, nodeNames), Math.max(1000, deadline - Date.now()), "the Patroni cluster becoming healthy", options.signal);
    const startupTookMs = Date.now() - t0;
    const leader = watching.picture.leader!;
    options.log(`patroni: cluster healthy in ${startupTookMs} ms (leader ${leader}, ${nodeNames.length - 1} replicas streaming, HAProxy rw → ${leader})`);
    return new StartedPatroni({ docker, runId: options.runId, spec, nodes: pgNodes, dcs: dcsMembers, haproxy, observer, password: secrets.superuser, startupMs: startupTookMs });
  } catch (error) {
    await observer?.stop();
    await removeLabelled(docker, { runId: options.runId }).catch(() => undefined);
    throw new HarnessError(`could not start the patroni target: ${errorMessage(error)}`, { cause: error });
  }
}

/** Starts a container; a failure says what the container printed (a refused image, a bad config). */
async function startNamed(docker: Docker, container: GenericContainer, name: string): Promise<StartedTestContainer> {
  try {
    return await container.start();
  } catch (error) {
    const found = (await docker.listContainers({ all: true, filters: { label: [`${LABELS.node}=${name}`] } }).catch(() => []))[0];
    let output = "";
    if (found) {
      const logs = await docker.getContainer(found.Id).logs({ stdout: true, stderr: true, tail: 20 }).catch(() => null);
      output = logs ? demux(Buffer.from(logs as unknown as Buffer)).trim() : "";
    }
    throw new HarnessError(`${name} did not start: ${errorMessage(error)}${output ? `\n${name} printed:\n${output}` : ""}`, { cause: error });
  }
}

/** Docker's multiplexed log stream (8-byte frame headers) as text. */
function demux(buffer: Buffer): string {
  let text = "";
  let offset = 0;
  while (offset + 8 <= buffer.length) {
    const size = buffer.readUInt32BE(offset + 4);
    text += buffer.subarray(offset + 8, offset + 8 + size).toString("utf8");
    offset += 8 + size;
  }
  return offset === 0 ? buffer.toString("utf8") : text;
}

/**
 * Healthy: a leader holds the key and is primary; every other member is a running replica that
 * streams from it; HAProxy sends rw to the leader alone and ro to the replicas alone (so its checks
 * have run: HAProxy counts a server up before its first check).
 */
export function healthy(picture: Picture, nodes: readonly string[]): true | string {
  const { leader } = picture;
  if (leader === undefined) return "no member's REST API answered /cluster yet";
  if (leader === null) return "no leader yet";
  if (picture.members.get(leader)?.role !== "primary") return `${leader} holds the leader key but is not primary yet`;
  const replicas = nodes.filter((node) => node !== leader);
  for (const replica of replicas) {
    const view = picture.members.get(replica);
    if (view?.role !== "replica" || !["running", "streaming"].includes(view.state ?? "")) {
      return `${replica} is ${view?.state ? `${view.role ?? "?"} and ${view.state}` : "not answering"}`;
    }
  }
  const streaming = new Set((picture.senders.get(leader) ?? []).filter((sender) => sender.state === "streaming").map((sender) => sender.application_name));
  const notStreaming = replicas.filter((replica) => !streaming.has(replica));
  if (notStreaming.length > 0) return `${notStreaming.join(", ")} not streaming from ${leader} yet`;
  if (!picture.haproxy) return "HAProxy's stats socket has not answered yet";
  const rw = upServers(picture.haproxy.rw);
  if (rw.join() !== leader || picture.haproxy.rw[leader] !== "UP") return `HAProxy's rw has ${rw.length > 0 ? rw.join(", ") : "no server"} up, not ${leader} alone`;
  const ro = upServers(picture.haproxy.ro);
  if (ro.join() !== [...replicas].sort().join()) return `HAProxy's ro has ${ro.length > 0 ? ro.join(", ") : "no server"} up, not ${replicas.join(", ")}`;
  return true;
}

function secret(): string {
  return randomBytes(18).toString("base64url");
}

/** An etcd member: its container, and its address on the private network (for cuts from it). */
interface DcsMember {
  name: string;
  id: string;
  ip: string;
}

interface StartedPatroniOptions {
  docker: Docker;
  runId: string;
  spec: PatroniTarget;
  nodes: ClusterNode[];
  dcs: DcsMember[];
  haproxy: StartedTestContainer;
  observer: PatroniObserver;
  password: string;
  startupMs: number;
}

class StartedPatroni implements StartedTopology {
  readonly kind = "patroni";
  readonly nodes: readonly string[];
  readonly controls: ControlsOf<PatroniCapability> = {
    kill: { kill: (node) => this.kill(node) },
    stop: { stop: (node, mode) => this.stop(node, mode) },
    freeze: { pause: (node) => this.containers.pause(node), unpause: (node) => this.containers.unpause(node) },
    network: { cut: (cut) => this.containers.cut(cut), healCuts: (node) => this.containers.healCuts(node) },
    shaping: { shape: (node, shaping) => this.containers.shape(node, shaping), unshape: (node) => this.containers.unshape(node) },
    switchover: { switchover: (node) => this.switchover(node) },
    processes: {
      kill: (node, process) => this.signalProcess(node, process, "KILL"),
      freeze: (node, process) => this.signalProcess(node, process, "STOP"),
      thaw: (node, process) => this.signalProcess(node, process, "CONT", true),
      revive: (node, process) => this.revive(node, process),
    },
    dcs: {
      killMembers: (which) => this.killMembers(which),
      startMembers: () => this.startMembers(),
      // Everything between the node and each etcd member, both ways.
      cutFrom: (node) => this.containers.cutFromAddresses(node, this.dcsMembers.map((member) => member.ip)),
      healCut: (node) => this.containers.healCuts(node),
    },
    manager: {
      failover: (node) => this.failover(node),
      maintenance: (mode) => this.maintenance(mode),
    },
  };
  /** How long the start took, from the first container to a healthy cluster. */
  readonly startupMs: number;
  readonly observer: PatroniObserver;
  private readonly docker: Docker;
  private readonly runId: string;
  private readonly byName: Map<string, ClusterNode>;
  private readonly ports: { rw: number; ro: number };
  private readonly password: string;
  private readonly dcsMembers: readonly DcsMember[];
  private readonly containers: ContainerNodeControls;
  /** Members a dcs-outage killed, to start again at its heal. */
  private readonly killedMembers = new Set<string>();
  private tornDown = false;

  constructor(options: StartedPatroniOptions) {
    this.docker = options.docker;
    this.runId = options.runId;
    this.observer = options.observer;
    this.byName = new Map(options.nodes.map((node) => [node.name, node]));
    this.nodes = options.nodes.map((node) => node.name);
    this.ports = { rw: options.haproxy.getMappedPort(HAPROXY_PORTS.rw), ro: options.haproxy.getMappedPort(HAPROXY_PORTS.ro) };
    this.password = options.password;
    this.startupMs = options.startupMs;
    this.dcsMembers = options.dcs;
    this.containers = new ContainerNodeControls(this.docker, (name) => this.node(name));
  }

  /** Where HAProxy's rw sends clients now; else Patroni's leader. */
  get rwNode(): string {
    const { picture } = this.observer;
    return (picture.haproxy ? upServers(picture.haproxy.rw)[0] : undefined) ?? picture.leader ?? this.nodes[0]!;
  }

  endpoint(name: string): Endpoint {
    const base = { host: "127.0.0.1", user: "postgres", password: this.password, database: "postgres" };
    if (name === "rw") return { ...base, node: this.rwNode, port: this.ports.rw };
    if (name === "ro") {
      const { haproxy } = this.observer.picture;
      return { ...base, node: (haproxy ? upServers(haproxy.ro)[0] : undefined) ?? "ro", port: this.ports.ro };
    }
    const node = this.node(name);
    return { ...base, node: node.name, port: node.pgPort };
  }

  /** "primary": the leader key's holder now; "replica": a running replica (by name). Asked fresh, not from the last poll. */
  async resolve(name: string): Promise<string> {
    if (name !== "primary" && name !== "replica") return name;
    const cluster = await this.cluster();
    const leader = cluster.find((member) => member.role === "leader")?.name;
    if (name === "primary") {
      if (!leader) throw new HarnessError("no Patroni member holds the leader key now");
      return leader;
    }
    const replica = cluster.find((member) => member.name !== leader && member.role !== "leader" && ["running", "streaming"].includes(member.state ?? ""))?.name;
    if (!replica) throw new HarnessError("no running Patroni replica now");
    return replica;
  }

  redact(text: string): string {
    return text.split(this.password).join("***");
  }

  /** The DCS's view from the first member whose REST API answers. */
  private async cluster(): Promise<Array<{ name: string; role?: string; state?: string }>> {
    const errors: string[] = [];
    for (const node of this.byName.values()) {
      try {
        const body = (await getJson(`http://127.0.0.1:${node.restPort}/cluster`, 2000)) as { members?: Array<{ name: string; role?: string; state?: string }> };
        if (Array.isArray(body.members)) return body.members;
        errors.push(`${node.name}: no members in its answer`);
      } catch (error) {
        errors.push(`${node.name}: ${errorMessage(error)}`);
      }
    }
    throw new HarnessError(`no Patroni REST API answered /cluster (${errors.join("; ")})`);
  }

  /** What `patronictl switchover --leader <leader> --candidate <node>` does: POST /switchover to the leader's REST API. */
  private async switchover(candidate: string): Promise<void> {
    const target = this.node(candidate);
    const leader = await this.resolve("primary");
    if (leader === candidate) throw new HarnessError(`${candidate} is already the leader`);
    const { status, body } = await httpJson("POST", `http://127.0.0.1:${this.node(leader).restPort}/switchover`, { leader, candidate }, SWITCHOVER_TIMEOUT_MS);
    if (status !== 200) throw new HarnessError(`Patroni refused the switchover from ${leader} to ${candidate} (HTTP ${status}): ${body.trim()}`);
    // Patroni answers once the leader key moved; done when the candidate's PostgreSQL is primary.
    await pollUntil(
      async () => {
        const answer = await getJson(`http://127.0.0.1:${target.restPort}/patroni`, 1000).catch(() => null);
        const role = normaliseRole((answer as { role?: unknown } | null)?.role);
        return role === "primary" ? done(undefined) : notYet(`${candidate} is ${role ?? "not answering"}`);
      },
      { deadline: Date.now() + 15_000, everyMs: 100, before: body.trim(), gaveUp: (last) => new HarnessError(`after the switchover ${candidate} did not become primary (${last})`) },
    );
  }

  /**
   * A signal to one process of a node: PostgreSQL's postmaster (its pid from postmaster.pid) or
   * Patroni (the pid its start script wrote). `ifAlive`: nothing to do when the process is gone
   * (a thaw after the node died).
   */
  private async signalProcess(name: string, process: ManagedProcess, signal: "KILL" | "STOP" | "CONT", ifAlive = false): Promise<void> {
    const pidOf = process === "postgres" ? `head -n 1 ${DATA_DIR}/postmaster.pid` : `cat ${MANAGER_PID}`;
    const what = process === "postgres" ? "PostgreSQL's postmaster" : "Patroni";
    if (ifAlive && !(await this.running(name))) return;
    const script = `pid=$(${pidOf} 2>/dev/null) && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || { echo "no running ${what}"; exit ${ifAlive ? 0 : 4}; }; kill -${signal} "$pid"`;
    const result = await this.node(name).container.exec(["sh", "-c", script], { user: "postgres" });
    if (result.exitCode !== 0) throw new HarnessError(`SIG${signal} to ${what} on ${name} failed (exit ${result.exitCode}): ${result.output.trim()}`);
  }

  /** Starts Patroni again on a node whose Patroni was killed (it finds its PostgreSQL running and takes it over); nothing for postgres, which Patroni restarts. */
  private async revive(name: string, process: ManagedProcess): Promise<void> {
    if (process === "postgres" || !(await this.running(name))) return;
    const script = `pid=$(cat ${MANAGER_PID} 2>/dev/null); if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -CONT "$pid"; else ${MANAGER_START}; fi`;
    const result = await this.node(name).container.exec(["sh", "-c", script], { user: "postgres" });
    if (result.exitCode !== 0) throw new HarnessError(`starting Patroni again on ${name} failed (exit ${result.exitCode}): ${result.output.trim()}`);
  }

  private async running(name: string): Promise<boolean> {
    const state = (await this.docker.getContainer(this.node(name).container.getId()).inspect()).State;
    return state.Running && !state.Paused;
  }

  /** SIGKILLs a majority of the etcd members (the first ones by name), or all. */
  private async killMembers(which: "majority" | "all"): Promise<string[]> {
    const count = which === "all" ? this.dcsMembers.length : Math.floor(this.dcsMembers.length / 2) + 1;
    const chosen = this.dcsMembers.slice(0, count);
    for (const member of chosen) {
      this.killedMembers.add(member.name);
      await this.docker.getContainer(member.id).kill({ signal: "SIGKILL" });
    }
    return chosen.map((member) => member.name);
  }

  /** Starts the killed members again, with the data they had (it lives in the container). */
  private async startMembers(): Promise<void> {
    for (const member of this.dcsMembers) {
      if (!this.killedMembers.has(member.name)) continue;
      const container = this.docker.getContainer(member.id);
      if (!(await container.inspect()).State.Running) await container.start();
      this.killedMembers.delete(member.name);
    }
  }

  /** What `patronictl failover --candidate <node>` does: POST /failover to a member that answers (the leader may be gone). */
  private async failover(candidate: string): Promise<void> {
    const target = this.node(candidate);
    const errors: string[] = [];
    let accepted: string | null = null;
    for (const node of [target, ...[...this.byName.values()].filter((other) => other !== target)]) {
      try {
        const { status, body } = await httpJson("POST", `http://127.0.0.1:${node.restPort}/failover`, { candidate }, SWITCHOVER_TIMEOUT_MS);
        if (status === 200) {
          accepted = body.trim();
          break;
        }
        errors.push(`${node.name}: HTTP ${status} ${body.trim()}`);
        // Patroni said no on its merits (not a dead API): another member would say the same.
        if (status >= 400 && status < 500) break;
      } catch (error) {
        errors.push(`${node.name}: ${errorMessage(error)}`);
      }
    }
    if (accepted === null) throw new HarnessError(`Patroni refused the failover to ${candidate}: ${errors.join("; ")}`);
    await this.untilPrimary(target, candidate, accepted, "failover");
  }

  /** Patroni's maintenance mode, as `patronictl pause/resume` sets it: PATCH /config {pause}. Done when the members say so. */
  private async maintenance(mode: "pause" | "resume"): Promise<void> {
    const paused = mode === "pause";
    const errors: string[] = [];
    let set = false;
    for (const node of this.byName.values()) {
      try {
        const { status, body } = await httpJson("PATCH", `http://127.0.0.1:${node.restPort}/config`, { pause: paused }, 10_000);
        if (status === 200) {
          set = true;
          break;
        }
        errors.push(`${node.name}: HTTP ${status} ${body.trim()}`);
      } catch (error) {
        errors.push(`${node.name}: ${errorMessage(error)}`);
      }
    }
    if (!set) throw new HarnessError(`no Patroni member took the maintenance ${mode}: ${errors.join("; ")}`);
    const leader = this.node(await this.resolve("primary"));
    await pollUntil(
      async () => {
        const answer = (await getJson(`http://127.0.0.1:${leader.restPort}/patroni`, 1000).catch(() => null)) as { pause?: unknown } | null;
        return (answer?.pause === true) === paused ? done(undefined) : notYet(`${leader.name} does not report the ${mode} yet`);
      },
      { deadline: Date.now() + 15_000, everyMs: 200, gaveUp: (last) => new HarnessError(`maintenance ${mode}: ${last}`) },
    );
  }

  /** Done once the node's PostgreSQL is primary, as its Patroni says. */
  private async untilPrimary(target: ClusterNode, candidate: string, before: string, what: string): Promise<void> {
    await pollUntil(
      async () => {
        const answer = await getJson(`http://127.0.0.1:${target.restPort}/patroni`, 1000).catch(() => null);
        const role = normaliseRole((answer as { role?: unknown } | null)?.role);
        return role === "primary" ? done(undefined) : notYet(`${candidate} is ${role ?? "not answering"}`);
      },
      { deadline: Date.now() + 15_000, everyMs: 100, before, gaveUp: (last) => new HarnessError(`after the ${what} ${candidate} did not become primary (${last})`) },
    );
  }

  private async kill(name: string): Promise<void> {
    await this.docker.getContainer(this.node(name).container.getId()).kill({ signal: "SIGKILL" });
  }

  /** PostgreSQL's own shutdown signal to the postmaster (smart = TERM, fast = INT, immediate = QUIT); Patroni, alive, reacts. */
  private async stop(name: string, mode: StopMode): Promise<void> {
    const signal = { smart: "TERM", fast: "INT", immediate: "QUIT" }[mode];
    const result = await this.node(name).container.exec(["sh", "-c", `kill -${signal} "$(head -n 1 ${DATA_DIR}/postmaster.pid)"`], { user: "postgres" });
    if (result.exitCode !== 0) throw new HarnessError(`stopping PostgreSQL on ${name} failed (exit ${result.exitCode}): ${result.output.trim()}`);
  }

  async teardown(): Promise<string[]> {
    if (this.tornDown) return [];
    this.tornDown = true;
    await this.observer.stop();
    return removeLabelled(this.docker, { runId: this.runId });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.teardown();
  }

  private node(name: string): ClusterNode {
    const node = this.byName.get(name);
    if (!node) throw new HarnessError(`no node named "${name}" in the Patroni cluster (nodes: ${[...this.byName.keys()].join(", ")})`);
    return node;
  }
}

