/**
 * A started pg_auto_failover formation: the controls its faults and actions use (the containers'
 * kill, stop, freeze, network and shaping, the keeper or PostgreSQL alone, and pg_autoctl's own
 * commands), its endpoints (the multi-host URL `pg_autoctl show uri` gives, and each node), and its
 * teardown. A command to the monitor is done when the monitor reports its outcome, not when
 * pg_autoctl returns.
 */
import { openClient, destroy } from "../../connection/client.ts";
import { parseConnInfo } from "../../connection/conninfo.ts";
import type { Endpoint, HostPort } from "../../connection/endpoint.ts";
import { HarnessError, errorMessage } from "../../errors.ts";
import { removeLabelled, type Docker } from "../shared/docker.ts";
import { ContainerNodeControls, containerControls, type ContainerNode } from "../shared/container-node.ts";
import { done, notYet, pollUntil } from "../shared/poll.ts";
import type { ControlsOf, ManagedProcess, MonitoringNode, MonitoringSite, StartedTopology } from "../types.ts";
import { DATA_DIR, FORMATION, KEEPER_START, MONITOR_DATA_DIR, MONITOR_START, PG_PORT } from "./config.ts";
import { primaryByMonitor, type MonitorObserver } from "./observer.ts";
import { MONITOR, pgAutoFailoverPlugin, type PgAutoFailoverTarget } from "./plugin.ts";

/** A command to the monitor must be done within the schedule's per-step limit (60 s). */
const COMMAND_TIMEOUT_MS = 55_000;

type PgafCapability = (typeof pgAutoFailoverPlugin.capabilities)[number];

export interface FormationNode extends ContainerNode {
  pgPort: number;
}

export interface StartedPgAutoFailoverOptions {
  docker: Docker;
  runId: string;
  /** The run's Docker network. */
  network: string;
  spec: PgAutoFailoverTarget;
  nodes: FormationNode[];
  monitor: FormationNode;
  observer: MonitorObserver;
  password: string;
  ssl: Endpoint["ssl"];
}

export class StartedPgAutoFailover implements StartedTopology {
  readonly kind = "pg-auto-failover";
  readonly nodes: readonly string[];
  readonly controls: ControlsOf<PgafCapability> = {
    kill: { kill: (node) => this.containers.kill(node) },
    // The keeper, alive, restarts a PostgreSQL stopped under it.
    stop: { stop: (node, mode) => this.containers.stopPostgres(node, mode, node === MONITOR ? MONITOR_DATA_DIR : DATA_DIR) },
    ...containerControls(() => this.containers),
    switchover: { switchover: (node) => this.promote(node) },
    processes: {
      kill: (node, process) => this.signalProcess(node, process, "KILL"),
      freeze: (node, process) => this.signalProcess(node, process, "STOP"),
      thaw: (node, process) => this.signalProcess(node, process, "CONT", true),
      revive: (node, process) => this.revive(node, process),
    },
    monitor: {
      down: (how) => this.monitorDown(how),
      up: () => this.monitorUp(),
    },
    autoctl: {
      perform: (operation) => this.perform(operation),
      maintenance: (node, mode, allowFailover) => this.maintenance(node, mode, allowFailover),
    },
  };
  /** How long the start took, from the first container to a settled formation clients can log in to. */
  startupMs = 0;
  readonly observer: MonitorObserver;
  private readonly docker: Docker;
  private readonly runId: string;
  private readonly network: string;
  private readonly byName: Map<string, FormationNode>;
  private readonly password: string;
  private readonly ssl: Endpoint["ssl"];
  private readonly containers: ContainerNodeControls;
  /** The hosts of `pg_autoctl show uri`, in its order, and its target_session_attrs (read at start). */
  private uri: { hosts: string[]; attrs: NonNullable<Endpoint["targetSessionAttrs"]> } | null = null;
  private lastPrimary: string;
  private tornDown = false;

  constructor(options: StartedPgAutoFailoverOptions) {
    this.docker = options.docker;
    this.runId = options.runId;
    this.network = options.network;
    this.observer = options.observer;
    this.byName = new Map([...options.nodes, options.monitor].map((node) => [node.name, node]));
    this.nodes = options.nodes.map((node) => node.name);
    this.password = options.password;
    this.ssl = options.ssl;
    this.lastPrimary = this.nodes[0]!;
    this.containers = new ContainerNodeControls(this.docker, (name) => this.node(name));
  }

  /** The data nodes, as the superuser (TLS when the formation has it); the monitor is no PostgreSQL the application uses. */
  get monitoringSite(): MonitoringSite {
    const sslmode: MonitoringNode["sslmode"] = this.ssl ? "require" : "disable";
    const nodes = this.nodes.map((name) => ({
      node: name,
      container: this.node(name).container.getId(),
      host: name,
      port: PG_PORT,
      user: "postgres",
      password: this.password,
      sslmode,
    }));
    return { network: this.network, nodes, scrape: [] };
  }

  /** The node the monitor says is primary now; while it says none (or is down), the last one it named. */
  get rwNode(): string {
    const primary = primaryByMonitor(this.observer.picture);
    if (primary !== null) this.lastPrimary = primary;
    return this.lastPrimary;
  }

  /**
   * rw: the URL `pg_autoctl show uri` gives (every node, target_session_attrs=read-write); ro: the
   * same hosts with prefer-standby, what an application's read URL says; a node's name: that node.
   */
  endpoint(name: string): Endpoint {
    const base = { host: "127.0.0.1", user: "postgres", password: this.password, database: "postgres", ssl: this.ssl };
    if (name === "rw" || name === "ro") {
      const order = this.uri?.hosts.filter((host) => this.nodes.includes(host)) ?? [...this.nodes];
      const hosts: HostPort[] = order.map((node) => ({ host: "127.0.0.1", port: this.node(node).pgPort, node }));
      const attrs = name === "rw" ? (this.uri?.attrs ?? "read-write") : "prefer-standby";
      const likely = name === "rw" ? this.rwNode : (this.nodes.find((node) => node !== this.rwNode) ?? this.rwNode);
      return { ...base, node: likely, port: this.node(likely).pgPort, hosts, targetSessionAttrs: attrs };
    }
    const node = this.node(name);
    return { ...base, node: node.name, port: node.pgPort };
  }

  /**
   * "primary": the node that says it takes writes now (asked of each node, not the monitor, which may be down); "replica": one in
   * recovery; "monitor": the monitor.
   */
  async resolve(name: string): Promise<string> {
    if (name !== "primary" && name !== "replica") return name;
    const answers = await Promise.all(this.nodes.map(async (node) => ({ node, answer: await this.ask(node) })));
    if (name === "primary") {
      const writable = answers.filter(({ answer }) => answer === "writable").map(({ node }) => node);
      if (writable.length === 1) return writable[0]!;
      // Two writable nodes is the split brain the drill must show: the monitor's primary is the one aimed at.
      const byMonitor = primaryByMonitor(this.observer.picture);
      if (writable.length > 1 && byMonitor !== null && writable.includes(byMonitor)) return byMonitor;
      if (writable[0] !== undefined) return writable[0];
      throw new HarnessError(`no data node takes writes now (${answers.map(({ node, answer }) => `${node}: ${answer}`).join(", ")})`);
    }
    const standby = answers.find(({ answer }) => answer === "in recovery")?.node;
    if (standby === undefined)
      throw new HarnessError(`no data node is a standby now (${answers.map(({ node, answer }) => `${node}: ${answer}`).join(", ")})`);
    return standby;
  }

  redact(text: string): string {
    return text.split(this.password).join("***");
  }

  /** Reads `pg_autoctl show uri` on the monitor: the URL clients are given, with its hosts' order and attributes. */
  async showUri(): Promise<string> {
    const result = await this.node(MONITOR).container.exec(
      ["pg_autoctl", "show", "uri", "--formation", FORMATION, "--pgdata", MONITOR_DATA_DIR],
      { user: "postgres" },
    );
    const text = result.output.trim().split("\n").at(-1) ?? "";
    if (result.exitCode !== 0) throw new HarnessError(`pg_autoctl show uri failed (exit ${result.exitCode}): ${result.output.trim()}`);
    const info = parseConnInfo(text, "pg_autoctl show uri", {});
    this.uri = { hosts: info.hosts.map((host) => host.host), attrs: info.targetSessionAttrs };
    return text;
  }

  /** The formation's number_sync_standbys, as `pg_autoctl set formation number-sync-standbys` sets it. */
  async setNumberSyncStandbys(count: number): Promise<void> {
    await this.autoctl(this.nodes[0]!, ["set", "formation", "number-sync-standbys", String(count)], "setting number_sync_standbys");
  }

  /** Waits until the superuser can log in through rw: node1 sets the password once its PostgreSQL runs. */
  async untilClientsCanLogIn(timeoutMs: number): Promise<void> {
    await pollUntil(
      async () => {
        const answer = await this.ask(this.rwNode);
        return answer === "writable" ? done(undefined) : notYet(`${this.rwNode}: ${answer}`);
      },
      {
        deadline: Date.now() + timeoutMs,
        everyMs: 200,
        gaveUp: (last) => new HarnessError(`clients could not log in to the primary (${last})`),
      },
    );
  }

  /** A node's own answer: writable, in recovery, read-only, or why it did not answer. */
  private async ask(node: string): Promise<string> {
    try {
      const { client } = await openClient(this.endpoint(node), {
        connectTimeoutMs: 1500,
        applicationName: "pgdrill-resolve",
        statementTimeoutMs: 1500,
      });
      try {
        const { rows } = await client.query<{ recovery: boolean; read_only: string }>(
          "SELECT pg_is_in_recovery() AS recovery, current_setting('transaction_read_only') AS read_only",
        );
        const row = rows[0];
        return row?.recovery ? "in recovery" : row?.read_only === "on" ? "read-only" : "writable";
      } finally {
        destroy(client);
      }
    } catch (error) {
      return errorMessage(error);
    }
  }

  /** `pg_autoctl perform promotion --name <node>`: a switchover to that node. Done once the monitor reports it primary. */
  private async promote(node: string): Promise<void> {
    if (node === MONITOR) throw new HarnessError("the monitor cannot be promoted: name a data node");
    const before = primaryByMonitor(this.observer.picture);
    if (before === node) throw new HarnessError(`${node} is already the primary`);
    await this.autoctl(node, ["perform", "promotion", "--name", node, "--wait", "0"], `the promotion of ${node}`);
    await this.untilMonitorSays(
      (picture) => (primaryByMonitor(picture) === node ? true : `the monitor's primary is ${primaryByMonitor(picture) ?? "none"}`),
      `${node} promoted`,
    );
  }

  /** `pg_autoctl perform switchover|failover`: the monitor chooses. Done once it reports a primary other than the one before. */
  private async perform(operation: "switchover" | "failover"): Promise<string> {
    const before = primaryByMonitor(this.observer.picture);
    const from = this.nodes.find((node) => node !== before) ?? this.nodes[0]!;
    await this.autoctl(from, ["perform", operation, "--wait", "0"], `pg_autoctl perform ${operation}`);
    let chosen = "";
    await this.untilMonitorSays((picture) => {
      const now = primaryByMonitor(picture);
      if (now !== null && now !== before) {
        chosen = now;
        return true;
      }
      return `the monitor's primary is ${now ?? "none"}`;
    }, `the ${operation}`);
    return chosen;
  }

  /** `pg_autoctl enable|disable maintenance` on the node. Done once the monitor reports it in maintenance, or out of it. */
  private async maintenance(node: string, mode: "enable" | "disable", allowFailover: boolean): Promise<void> {
    if (node === MONITOR) throw new HarnessError("maintenance is for data nodes: name one");
    // enable|disable maintenance take no --wait: the monitor's report says when it is done.
    const args = [mode, "maintenance", ...(allowFailover ? ["--allow-failover"] : [])];
    await this.autoctl(node, args, `maintenance ${mode} on ${node}`, false);
    await this.untilMonitorSays((picture) => {
      const view = picture.nodes.get(node);
      const settledIn = view !== undefined && view.reportedState === view.goalState;
      const inMaintenance = view?.reportedState === "maintenance";
      if (mode === "enable")
        return settledIn && inMaintenance ? true : `${node} is ${view?.reportedState ?? "?"} (goal ${view?.goalState ?? "?"})`;
      return settledIn && !inMaintenance && view.reportedState !== "catchingup"
        ? true
        : `${node} is ${view?.reportedState ?? "?"} (goal ${view?.goalState ?? "?"})`;
    }, `maintenance ${mode} on ${node}`);
  }

  /** Runs pg_autoctl on a data node (its config names the monitor); `anyNode`: another running node will do. */
  private async autoctl(node: string, args: string[], what: string, anyNode = true): Promise<void> {
    const candidates = anyNode ? [node, ...this.nodes.filter((other) => other !== node)] : [node];
    const errors: string[] = [];
    for (const candidate of candidates) {
      if (!(await this.containers.running(candidate))) {
        errors.push(`${candidate}: not running`);
        continue;
      }
      const result = await this.node(candidate).container.exec(["pg_autoctl", ...args, "--pgdata", DATA_DIR], { user: "postgres" });
      if (result.exitCode === 0) return;
      errors.push(`${candidate}: exit ${result.exitCode}: ${lastLines(result.output)}`);
      // pg_autoctl reached the monitor and it said no: another node would hear the same.
      if (!/could not connect|connection to server|Failed to connect/i.test(result.output)) break;
    }
    throw new HarnessError(`${what} failed: ${errors.join("; ")}`);
  }

  private async untilMonitorSays(ready: (picture: MonitorObserver["picture"]) => true | string, what: string): Promise<void> {
    try {
      await this.observer.waitUntil(() => ready(this.observer.picture), COMMAND_TIMEOUT_MS, what);
    } catch (error) {
      throw new HarnessError(`${what}: the monitor did not report it done (${errorMessage(error)})`, { cause: error });
    }
  }

  /**
   * A signal to one process of a data node: PostgreSQL's postmaster (its pid from postmaster.pid),
   * or the keeper (every pg_autoctl process: the supervisor and its services, not PostgreSQL).
   * `ifAlive`: nothing to do when the process is gone (a thaw after the node died).
   */
  private async signalProcess(name: string, process: ManagedProcess, signal: "KILL" | "STOP" | "CONT", ifAlive = false): Promise<void> {
    if (name === MONITOR)
      throw new HarnessError("the monitor's processes are not aimed at alone: kill, stop or freeze the monitor instead");
    if (ifAlive && !(await this.containers.running(name))) return;
    const what = process === "postgres" ? "PostgreSQL's postmaster" : "the pg_autoctl keeper";
    const script =
      process === "postgres"
        ? `pid=$(head -n 1 ${DATA_DIR}/postmaster.pid 2>/dev/null) && [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || ` +
          `{ echo "no running ${what}"; exit ${ifAlive ? 0 : 4}; }; kill -${signal} "$pid"`
        : `pgrep -x pg_autoctl >/dev/null || { echo "no running ${what}"; exit ${ifAlive ? 0 : 4}; }; pkill -${signal} -x pg_autoctl`;
    const result = await this.node(name).container.exec(["sh", "-c", script], { user: "postgres" });
    if (result.exitCode !== 0)
      throw new HarnessError(`SIG${signal} to ${what} on ${name} failed (exit ${result.exitCode}): ${result.output.trim()}`);
  }

  /** Starts the keeper again where it was killed (it finds its PostgreSQL running and takes it over); thaws a frozen one. */
  private async revive(name: string, process: ManagedProcess): Promise<void> {
    if (process === "postgres" || name === MONITOR || !(await this.containers.running(name))) return;
    const script = `if pgrep -x pg_autoctl >/dev/null; then pkill -CONT -x pg_autoctl; else ${KEEPER_START}; fi`;
    const result = await this.node(name).container.exec(["sh", "-c", script], { user: "postgres" });
    if (result.exitCode !== 0)
      throw new HarnessError(`starting the keeper again on ${name} failed (exit ${result.exitCode}): ${result.output.trim()}`);
  }

  /** The monitor crashes (every pg_autoctl and PostgreSQL process of it SIGKILLed; its container and data stay) or hangs (frozen). */
  private async monitorDown(how: "kill" | "freeze"): Promise<void> {
    if (how === "freeze") return this.containers.pause(MONITOR);
    // Both at once, as a crash does: pg_autoctl would restart a PostgreSQL killed alone.
    const script = "pkill -KILL -x pg_autoctl; pkill -KILL -x postgres; true";
    const result = await this.node(MONITOR).container.exec(["sh", "-c", script], { user: "postgres" });
    if (result.exitCode !== 0)
      throw new HarnessError(`killing the monitor's processes failed (exit ${result.exitCode}): ${result.output.trim()}`);
  }

  /** Thaws the monitor, or starts its pg_autoctl again (it finds its data and serves); done once its PostgreSQL answers. */
  private async monitorUp(): Promise<void> {
    await this.containers.unpause(MONITOR);
    const script =
      `pgrep -x pg_autoctl >/dev/null || ${MONITOR_START}; tries=0; until pg_isready -q -h /var/run/postgresql; do ` +
      `tries=$((tries + 1)); [ "$tries" -lt 300 ] || { echo "the monitor's PostgreSQL did not start within 30 s"; exit 1; }; ` +
      "sleep 0.1; done";
    const result = await this.node(MONITOR).container.exec(["sh", "-c", script], { user: "postgres" });
    if (result.exitCode !== 0)
      throw new HarnessError(`starting the monitor again failed (exit ${result.exitCode}): ${result.output.trim()}`);
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

  private node(name: string): FormationNode {
    const node = this.byName.get(name);
    if (!node) throw new HarnessError(`no node named "${name}" in the pg_auto_failover formation (${[...this.byName.keys()].join(", ")})`);
    return node;
  }
}

function lastLines(output: string): string {
  return output.trim().split("\n").slice(-3).join(" / ");
}
