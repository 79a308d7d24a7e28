/**
 * A started Patroni target: the controls its faults and actions use (the node containers' kill,
 * stop, freeze, network and shaping, Patroni's own process, the DCS, a switchover through Patroni's
 * REST API, backups and restores: backups.ts), its endpoints through HAProxy and to each node, and
 * its teardown.
 */
import type { StartedTestContainer } from "testcontainers";
import { HarnessError, errorMessage } from "../../errors.ts";
import type { Endpoint } from "../../connection/endpoint.ts";
import type { BackupOptions } from "../../scenario/backup.ts";
import { removeAndWait, removeLabelled, type Docker } from "../shared/docker.ts";
import { startNamed } from "../shared/start-named.ts";
import { ContainerNodeControls, containerControls, type ContainerNode } from "../shared/container-node.ts";
import { done, notYet, pollUntil } from "../shared/poll.ts";
import type { ControlsOf, ManagedProcess, MonitoringSite, StartedTopology, TopologyStartOptions } from "../types.ts";
import { DATA_DIR, HAPROXY_PORTS, PG_PORT, REST_PORT } from "./config.ts";
import { httpJson, getJson, normaliseRole, statsCommand, upServers, type PatroniObserver } from "./observer.ts";
import { PatroniBackups, type NodeContainerFactory, type NodeStart } from "./backups.ts";
import { MANAGER_PID, MANAGER_START } from "./entrypoint.ts";
import { patroniPlugin, type PatroniTarget } from "./plugin.ts";

/** A switchover must finish within the schedule's per-step limit (60 s). */
const SWITCHOVER_TIMEOUT_MS = 55_000;

type PatroniCapability = (typeof patroniPlugin.capabilities)[number];

export interface ClusterNode extends ContainerNode {
  pgPort: number;
  restPort: number;
}

/** An etcd member: its container, and its address on the private network (for cuts from it). */
export interface DcsMember {
  name: string;
  id: string;
  ip: string;
  container: StartedTestContainer;
}

export interface StartedPatroniOptions {
  docker: Docker;
  runId: string;
  /** The run's Docker network. */
  network: string;
  spec: PatroniTarget;
  nodes: ClusterNode[];
  dcs: DcsMember[];
  haproxy: StartedTestContainer;
  observer: PatroniObserver;
  password: string;
  startupMs: number;
}

export class StartedPatroni implements StartedTopology {
  readonly kind = "patroni";
  readonly nodes: readonly string[];
  readonly controls: ControlsOf<PatroniCapability> = {
    kill: { kill: (node) => this.containers.kill(node) },
    // Patroni, alive, restarts a PostgreSQL stopped under it.
    stop: { stop: (node, mode) => this.containers.stopPostgres(node, mode, DATA_DIR) },
    ...containerControls(() => this.containers),
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
      cutFrom: (node) =>
        this.containers.cutFromAddresses(
          node,
          this.dcsMembers.map((member) => member.ip),
        ),
      healCut: (node) => this.containers.healCuts(node),
    },
    manager: {
      failover: (node) => this.failover(node),
      maintenance: (mode) => this.maintenance(mode),
    },
    backup: {
      backup: (type, verify) => this.backups().controls().backup.backup(type, verify),
      restore: (request) => this.backups().controls().backup.restore(request),
    },
    disaster: {
      destroyData: () => this.backups().controls().disaster.destroyData(),
      damageTable: (how) => this.backups().controls().disaster.damageTable(how),
      corruptFile: (node) => this.backups().controls().disaster.corruptFile(node),
    },
  };
  /** How long the start took, from the first container to a healthy cluster. */
  readonly startupMs: number;
  readonly observer: PatroniObserver;
  private readonly docker: Docker;
  private readonly runId: string;
  private readonly network: string;
  private readonly byName: Map<string, ClusterNode>;
  private readonly ports: { rw: number; ro: number; stats: number };
  private readonly password: string;
  private readonly dcsMembers: readonly DcsMember[];
  private readonly containers: ContainerNodeControls;
  /** Members a dcs-outage killed, to start again at its heal. */
  private readonly killedMembers = new Set<string>();
  private patroniBackups: PatroniBackups | null = null;
  private tornDown = false;

  constructor(options: StartedPatroniOptions) {
    this.docker = options.docker;
    this.runId = options.runId;
    this.network = options.network;
    this.observer = options.observer;
    this.byName = new Map(options.nodes.map((node) => [node.name, node]));
    this.nodes = options.nodes.map((node) => node.name);
    const { haproxy } = options;
    this.ports = {
      rw: haproxy.getMappedPort(HAPROXY_PORTS.rw),
      ro: haproxy.getMappedPort(HAPROXY_PORTS.ro),
      stats: haproxy.getMappedPort(HAPROXY_PORTS.stats),
    };
    this.password = options.password;
    this.startupMs = options.startupMs;
    this.dcsMembers = options.dcs;
    this.containers = new ContainerNodeControls(this.docker, (name) => this.node(name));
  }

  /** Each node's PostgreSQL, as the superuser, and Patroni's REST API, which serves /metrics. */
  get monitoringSite(): MonitoringSite {
    const nodes = [...this.byName.values()];
    return {
      network: this.network,
      nodes: nodes.map((node) => ({
        node: node.name,
        container: node.container.getId(),
        host: node.name,
        port: PG_PORT,
        user: "postgres",
        password: this.password,
      })),
      scrape: nodes.map((node) => ({ job: "patroni", node: node.name, address: `${node.name}:${REST_PORT}` })),
    };
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
    const replica = cluster.find(
      (member) => member.name !== leader && member.role !== "leader" && ["running", "streaming"].includes(member.state ?? ""),
    )?.name;
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
        const body = (await getJson(`http://127.0.0.1:${node.restPort}/cluster`, 2000)) as {
          members?: Array<{ name: string; role?: string; state?: string }>;
        };
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
    const { status, body } = await httpJson(
      "POST",
      `http://127.0.0.1:${this.node(leader).restPort}/switchover`,
      { leader, candidate },
      SWITCHOVER_TIMEOUT_MS,
    );
    if (status !== 200)
      throw new HarnessError(`Patroni refused the switchover from ${leader} to ${candidate} (HTTP ${status}): ${body.trim()}`);
    // Patroni answers once the leader key moved; done when the candidate's PostgreSQL is primary.
    await this.untilPrimary(target, candidate, body.trim(), "switchover");
  }

  /**
   * A signal to one process of a node: PostgreSQL's postmaster (its pid from postmaster.pid) or
   * Patroni (the pid its start script wrote). `ifAlive`: nothing to do when the process is gone
   * (a thaw after the node died).
   */
  private async signalProcess(name: string, process: ManagedProcess, signal: "KILL" | "STOP" | "CONT", ifAlive = false): Promise<void> {
    const pidOf = process === "postgres" ? `head -n 1 ${DATA_DIR}/postmaster.pid` : `cat ${MANAGER_PID}`;
    const what = process === "postgres" ? "PostgreSQL's postmaster" : "Patroni";
    if (ifAlive && !(await this.containers.running(name))) return;
    const script =
      `pid=$(${pidOf} 2>/dev/null) && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || { echo "no running ${what}"; exit ` +
      `${ifAlive ? 0 : 4}; }; kill -${signal} "$pid"`;
    const result = await this.node(name).container.exec(["sh", "-c", script], { user: "postgres" });
    if (result.exitCode !== 0)
      throw new HarnessError(`SIG${signal} to ${what} on ${name} failed (exit ${result.exitCode}): ${result.output.trim()}`);
  }

  /**
   * Starts Patroni again on a node whose Patroni was killed (it finds its PostgreSQL running and takes it over); nothing for postgres,
   * which Patroni restarts.
   */
  private async revive(name: string, process: ManagedProcess): Promise<void> {
    if (process === "postgres" || !(await this.containers.running(name))) return;
    const script =
      `pid=$(cat ${MANAGER_PID} 2>/dev/null); if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -CONT "$pid"; else ` +
      `${MANAGER_START}; fi`;
    const result = await this.node(name).container.exec(["sh", "-c", script], { user: "postgres" });
    if (result.exitCode !== 0)
      throw new HarnessError(`starting Patroni again on ${name} failed (exit ${result.exitCode}): ${result.output.trim()}`);
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
      {
        deadline: Date.now() + 15_000,
        everyMs: 100,
        before,
        gaveUp: (last) => new HarnessError(`after the ${what} ${candidate} did not become primary (${last})`),
      },
    );
  }

  /** With the target's `backup`: the repository's stanza on the leader, the setup event, and the archive samples for the drill. */
  async startBackups(options: BackupOptions, repository: string, fresh: NodeContainerFactory, start: TopologyStartOptions): Promise<void> {
    this.patroniBackups = new PatroniBackups(
      {
        nodes: this.nodes,
        exec: (node, argv, user = "postgres") => this.node(node).container.exec(argv, { user }),
        endpoint: (node) => this.endpoint(node),
        leader: () => this.observer.picture.leader ?? this.rwNode,
        leaderKey: () => this.observer.picture.leader,
        kill: (node) => this.containers.kill(node),
        remove: (node) => this.removeNode(node),
        dcs: this.dcsMembers,
        retire: () => this.retireNodes(),
        startNode: (node, how) => this.startNode(node, how, fresh),
        waitUntil: (ready, timeoutMs, what) => this.observer.waitUntil(ready, timeoutMs, what, start.signal),
        streamingFrom: (leader) =>
          (this.observer.picture.senders.get(leader) ?? [])
            .filter((sender) => sender.state === "streaming")
            .map((sender) => sender.application_name),
        record: (observation) => start.record?.(observation),
        now: start.now ?? (() => 0),
        redact: (text) => this.redact(text),
        log: start.log,
        repository,
      },
      options,
    );
    await this.patroniBackups.start((start.durationMs ?? 600_000) + 600_000);
  }

  private backups(): PatroniBackups {
    if (!this.patroniBackups) throw new HarnessError('this Patroni cluster has no backups: add "backup: {}" to the target');
    return this.patroniBackups;
  }

  /** A node's container removed with its volumes, by its name, and the name free for the container that replaces it. */
  private removeNode(name: string): Promise<void> {
    return removeAndWait(this.docker, `pgdrill-${this.runId}-${name}`);
  }

  /**
   * The members are gone for good: HAProxy counts each down at once (rather than after its checks
   * fail `fall` times), and the observer records where rw and ro point afresh once a new member is up.
   */
  private async retireNodes(): Promise<void> {
    for (const name of this.nodes) {
      for (const listener of ["rw", "ro"]) await this.haproxy(`set server ${listener}/${name} health down`, /^\s*$/);
    }
    this.observer.forgetEndpoints();
  }

  /** A command on HAProxy's runtime API (its stats socket, admin level with backups); `ok`: what its answer must look like. */
  private async haproxy(command: string, ok: RegExp): Promise<void> {
    const answer = await statsCommand({ host: "127.0.0.1", port: this.ports.stats }, command, 2000);
    if (!ok.test(answer)) throw new HarnessError(`HAProxy refused "${command}": ${answer.trim()}`);
  }

  /**
   * A fresh container for `node`, on its old host ports when they are still free, taken as the
   * node's: HAProxy is told its new address (its runtime API), the observer its REST API's.
   */
  private async startNode(name: string, how: NodeStart, fresh: NodeContainerFactory): Promise<StartedTestContainer> {
    const old = this.byName.get(name);
    const ports = old ? { pg: old.pgPort, rest: old.restPort } : undefined;
    const container = await startNamed(this.docker, fresh(name, { ...how, ...(ports ? { ports } : {}) }), name).catch(
      async (error: unknown) => {
        // A port taken meanwhile is not worth a failed restore: any free one will do.
        if (!ports || !/port is already allocated|address already in use/i.test(errorMessage(error))) throw error;
        await this.removeNode(name);
        return startNamed(this.docker, fresh(name, how), name);
      },
    );
    const ip = container.getIpAddress(this.network);
    const node: ClusterNode = {
      name,
      container,
      ip,
      pgPort: container.getMappedPort(PG_PORT),
      restPort: container.getMappedPort(REST_PORT),
    };
    this.byName.set(name, node);
    this.observer.moveApi(name, `http://127.0.0.1:${node.restPort}`);
    for (const listener of ["rw", "ro"]) await this.haproxy(`set server ${listener}/${name} addr ${ip}`, /changed|no need/i);
    return container;
  }

  async teardown(): Promise<string[]> {
    if (this.tornDown) return [];
    this.tornDown = true;
    await this.patroniBackups?.stop();
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
