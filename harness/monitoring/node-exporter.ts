/**
 * postgres_exporter run "on-node": inside each PostgreSQL node's own container, as a detached
 * process (`docker exec -d`), the way a host runs it beside PostgreSQL as a systemd unit. It dies
 * with the node's container, so a dead node's series vanish (Prometheus's `up` goes 0, `pg_up` is
 * gone) as they do on a real host; `supervise()` starts it again once the container runs again and
 * the exporter is gone, like systemd's Restart=always (bounded, and quiet but for one line each).
 */
import { getContainerRuntimeClient } from "testcontainers";
import { errorMessage } from "../errors.ts";
import { LABELS, runLabels, type Docker } from "../targets/shared/docker.ts";
import type { MonitoringNode } from "../targets/types.ts";
import { EXPORTER_PORT, dataSourceName } from "./stack-config.ts";

/** Where the exporter's binary is in pgdrill's image; a node from another image gets a copy of it at COPIED. */
const IMAGE_BINARY = "/usr/bin/prometheus-postgres-exporter";
const COPIED = "/tmp/prometheus-postgres-exporter";
const PID_FILE = "/tmp/pgdrill-exporter.pid";
export const EXPORTER_LOG = "/tmp/pgdrill-exporter.log";
/** systemd's RestartSec, and how many restarts per node before it gives up (StartLimitBurst, roughly). */
const RESTART_AFTER_MS = 1000;
const MAX_RESTARTS = 50;
/** No Docker call of a supervision round may hold the drill's poll longer than this. */
const CALL_TIMEOUT_MS = 5000;

interface Running {
  node: MonitoringNode;
  /** The detached exec that runs the exporter now. */
  execId: string | null;
  restarts: number;
  notBefore: number;
  gaveUp: boolean;
}

export class OnNodeExporters {
  private readonly docker: Docker;
  private readonly log: (line: string) => void;
  private readonly image: string;
  private readonly labels: Record<string, string>;
  private readonly byNode = new Map<string, Running>();
  private round: Promise<void> | null = null;
  private stopped = false;

  constructor(options: {
    docker: Docker;
    image: string;
    runId: string;
    scenario: string;
    nodes: readonly MonitoringNode[];
    log: (line: string) => void;
  }) {
    this.docker = options.docker;
    this.image = options.image;
    this.log = options.log;
    this.labels = runLabels(options.runId, options.scenario);
    for (const node of options.nodes) this.byNode.set(node.node, { node, execId: null, restarts: 0, notBefore: 0, gaveUp: false });
  }

  /** Starts the exporter in every node's container (copying the binary in where the node's image has none). */
  async start(): Promise<void> {
    await Promise.all([...this.byNode.values()].map(async (running) => this.launch(running, await this.binary(running.node))));
  }

  /** One supervision round: an exporter gone from a node whose container runs again is started again. Never throws. */
  supervise(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.round ??= this.superviseRound().finally(() => (this.round = null));
    return this.round;
  }

  /** Stops every exporter it started that still runs (the target's containers may be shared by later drills). Never throws. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.round?.catch(() => undefined);
    await Promise.all(
      [...this.byNode.values()].map(async (running) => {
        if (!(await this.alive(running).catch(() => false))) return;
        const script = `pid=$(cat ${PID_FILE} 2>/dev/null) && kill "$pid" 2>/dev/null; true`;
        await within(this.exec(running.node, script), CALL_TIMEOUT_MS).catch(() => undefined);
      }),
    );
  }

  /** The last lines the node's exporter printed, for an error that says why it did not answer. */
  async printed(node: string, tail = 15): Promise<string> {
    const running = this.byNode.get(node);
    if (!running) return "";
    const result = await within(this.exec(running.node, `tail -n 50 ${EXPORTER_LOG} 2>/dev/null`), CALL_TIMEOUT_MS).catch(() => null);
    return keyLines(result?.output ?? "", tail);
  }

  private async superviseRound(): Promise<void> {
    for (const running of this.byNode.values()) {
      if (this.stopped) return;
      if (running.gaveUp || Date.now() < running.notBefore) continue;
      try {
        if (await this.alive(running)) continue;
        const state = (await within(this.docker.getContainer(running.node.container).inspect(), CALL_TIMEOUT_MS)).State;
        // Down or frozen: the exporter went with it, as on a host that is off.
        if (!state.Running || state.Paused) continue;
        if (running.restarts >= MAX_RESTARTS) {
          running.gaveUp = true;
          this.log(`monitoring: postgres_exporter on ${running.node.node} stopped ${MAX_RESTARTS} times; not starting it again`);
          continue;
        }
        running.restarts += 1;
        running.notBefore = Date.now() + RESTART_AFTER_MS;
        await this.launch(running, await this.binary(running.node));
        this.log(`monitoring: postgres_exporter on ${running.node.node} started again (its container runs again)`);
      } catch (error) {
        // The node's container may be going away under a fault: try again a moment later.
        running.notBefore = Date.now() + RESTART_AFTER_MS;
        if (running.restarts === 0)
          this.log(`monitoring: could not check postgres_exporter on ${running.node.node}: ${errorMessage(error)}`);
      }
    }
  }

  /** Whether the exec that runs the node's exporter still runs (a killed container ends it). */
  private async alive(running: Running): Promise<boolean> {
    if (running.execId === null) return false;
    try {
      return (await within(this.docker.getExec(running.execId).inspect(), CALL_TIMEOUT_MS)).Running;
    } catch {
      return false;
    }
  }

  /** `docker exec -d`: the exporter as a process of the node's container, its pid and output in files there. */
  private async launch(running: Running, binary: string): Promise<void> {
    const script = `echo $$ > ${PID_FILE}; exec ${binary} --web.listen-address=:${EXPORTER_PORT} >>${EXPORTER_LOG} 2>&1`;
    const exec = await this.docker.getContainer(running.node.container).exec({
      Cmd: ["sh", "-c", script],
      Env: [`DATA_SOURCE_NAME=${dataSourceName(running.node, "on-node")}`],
      AttachStdout: false,
      AttachStderr: false,
    });
    await exec.start({ Detach: true });
    running.execId = exec.id;
  }

  /**
   * The exporter's path in the node's container: its own (pgdrill's image has Debian's package), or a
   * copy of the stack image's, put in /tmp (the official postgres images are Debian too, with the libc it needs).
   */
  private async binary(node: MonitoringNode): Promise<string> {
    const found = await this.exec(
      node,
      `command -v prometheus-postgres-exporter || command -v postgres_exporter || { [ -x ${COPIED} ] && echo ${COPIED}; }`,
    );
    const path = found.output.trim().split("\n").at(-1) ?? "";
    if (found.exitCode === 0 && path !== "") return path;
    const source = await this.docker.createContainer({
      Image: this.image,
      Cmd: ["true"],
      Labels: { ...this.labels, [LABELS.node]: `exporter-binary-${node.node}` },
    });
    try {
      const archive = await source.getArchive({ path: IMAGE_BINARY });
      await this.docker.getContainer(node.container).putArchive(archive, { path: "/tmp" });
    } finally {
      await source.remove({ force: true }).catch(() => undefined);
    }
    this.log(`monitoring: ${node.node}'s image has no postgres_exporter; copied ${this.image}'s into its container`);
    return COPIED;
  }

  private async exec(node: MonitoringNode, script: string): Promise<{ output: string; exitCode: number }> {
    const client = await getContainerRuntimeClient();
    return client.container.exec(this.docker.getContainer(node.container), ["sh", "-c", script], { log: false });
  }
}

/** The promise, or a rejection once `ms` pass (a Docker call that hangs must not hold the drill). */
export function within<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/**
 * What a Prometheus component's log says went wrong: its error lines (logfmt `level=error`) and pgdrill's own, the
 * last `max` of them; else its last `max` lines (Prometheus prints a dozen lines of shutting down after the one that matters).
 */
export function keyLines(output: string, max: number): string {
  const lines = output
    .trim()
    .split("\n")
    .filter((line) => line.trim() !== "");
  const errors = lines.filter((line) => /level=(error|fatal)|^pgdrill-monitoring: (?!starting)/.test(line));
  return (errors.length > 0 ? errors : lines).slice(-max).join("\n");
}
