/**
 * A node that is a Docker container, the same for every container target (the pair, Patroni): how
 * it is started (PrivateNetworkContainer), and what it can be made to do (ContainerNodeControls:
 * the cgroup freezer, iptables cuts and traffic shaping in its network namespace). A target keeps
 * its nodes; the controls are handed how to find one by name.
 */
import { GenericContainer, type StartedTestContainer } from "testcontainers";
import { HarnessError, errorMessage } from "../../errors.ts";
import type { Controls, Cut, Shaping, StopMode } from "../types.ts";
import type { Docker } from "./docker.ts";
import { iptablesCommands } from "./iptables.ts";
import { applyShaping, describeMechanism, removeShaping, type NodeShell } from "./shaping.ts";

/** A node as these controls need it: its container, and its address on the private network (for cuts between nodes). */
export interface ContainerNode {
  name: string;
  container: StartedTestContainer;
  ip: string;
}

const FREEZE_ATTEMPTS = 4;

/**
 * The controls every container target hands out as they are (the freezer, cuts, shaping), for a
 * started target's `controls`; `of` is asked at each call, so a class field may hold them before its
 * constructor made the node controls.
 */
export function containerControls(of: () => ContainerNodeControls): Pick<Controls, "freeze" | "network" | "shaping"> {
  return {
    freeze: { pause: (node) => of().pause(node), unpause: (node) => of().unpause(node) },
    network: { cut: (cut) => of().cut(cut), healCuts: (node) => of().healCuts(node) },
    shaping: { shape: (node, shaping) => of().shape(node, shaping), unshape: (node) => of().unshape(node) },
  };
}

export class ContainerNodeControls {
  private readonly docker: Docker;
  private readonly node: (name: string) => ContainerNode;

  constructor(docker: Docker, node: (name: string) => ContainerNode) {
    this.docker = docker;
    this.node = node;
  }

  /** SIGKILL to the container: every process in it dies at once, as in a power cut. */
  async kill(name: string): Promise<void> {
    await this.docker.getContainer(this.node(name).container.getId()).kill({ signal: "SIGKILL" });
  }

  /** Whether the container runs and is not frozen (a process of it can be signalled). */
  async running(name: string): Promise<boolean> {
    const state = (await this.docker.getContainer(this.node(name).container.getId()).inspect()).State;
    return state.Running && !state.Paused;
  }

  /**
   * PostgreSQL's own shutdown signal to its postmaster (smart = TERM, fast = INT, immediate = QUIT), its pid read from
   * postmaster.pid in `dataDir`: for a node whose HA manager, alive, restarts it.
   */
  async stopPostgres(name: string, mode: StopMode, dataDir: string): Promise<void> {
    const signal = { smart: "TERM", fast: "INT", immediate: "QUIT" }[mode];
    const result = await this.node(name).container.exec(["sh", "-c", `kill -${signal} "$(head -n 1 ${dataDir}/postmaster.pid)"`], {
      user: "postgres",
    });
    if (result.exitCode !== 0)
      throw new HarnessError(`stopping PostgreSQL on ${name} failed (exit ${result.exitCode}): ${result.output.trim()}`);
  }

  async pause(name: string): Promise<void> {
    const container = this.docker.getContainer(this.node(name).container.getId());
    // runc gives up freezing a cgroup whose processes keep forking or waking under load ("unable
    // to freeze") and thaws it again; trying again a moment later succeeds.
    for (let attempt = 1; ; attempt += 1) {
      try {
        await container.pause();
        return;
      } catch (error) {
        if (attempt >= FREEZE_ATTEMPTS || !/unable to freeze/.test(errorMessage(error))) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  }

  async unpause(name: string): Promise<void> {
    const container = this.docker.getContainer(this.node(name).container.getId());
    if ((await container.inspect()).State.Paused) await container.unpause();
  }

  async cut(cut: Cut): Promise<void> {
    const peerIp = cut.from === "all" ? "all" : this.node(cut.from).ip;
    await this.iptables(cut.node, iptablesCommands.cut(peerIp, cut.direction));
  }

  /** Drops everything between the node and each of these addresses, both ways. */
  async cutFromAddresses(name: string, ips: readonly string[]): Promise<void> {
    await this.iptables(name, ips.map((ip) => iptablesCommands.cut(ip, "both")).join("\n"));
  }

  async healCuts(name: string): Promise<void> {
    if (await this.netnsToHeal(name)) await this.iptables(name, iptablesCommands.heal());
  }

  /** tc netem in the node's network namespace, or pgdrill's packet delayer where the kernel has no netem. */
  async shape(name: string, shaping: Shaping): Promise<string> {
    return describeMechanism(await applyShaping(this.shell(name), shaping));
  }

  async unshape(name: string): Promise<void> {
    if (await this.netnsToHeal(name)) await removeShaping(this.shell(name));
  }

  /**
   * Whether a heal has a network namespace to work in: a dead node's went with it, rules and
   * qdisc included; a frozen one is thawed first, so its heal can run.
   */
  private async netnsToHeal(name: string): Promise<boolean> {
    const container = this.docker.getContainer(this.node(name).container.getId());
    const state = (await container.inspect()).State;
    if (!state.Running) return false;
    if (state.Paused) await container.unpause();
    return true;
  }

  /** Root in the node's container, which shares its network namespace. */
  private shell(name: string): NodeShell {
    const { container } = this.node(name);
    return {
      name,
      run: (script) => container.exec(["sh", "-c", script], { user: "root" }),
      copy: (content, path) => container.copyContentToContainer([{ content, target: path, mode: 0o755 }]),
    };
  }

  private async iptables(name: string, script: string): Promise<void> {
    const result = await this.node(name).container.exec(["sh", "-c", script], { user: "root" });
    if (result.exitCode === 127) {
      throw new HarnessError(
        `iptables is not installed in the image of ${name}: network faults need it. ` +
          "Use pgdrill's local image (bash fixtures/image/build-local-image.sh) or an image with iptables.",
      );
    }
    if (result.exitCode !== 0) throw new HarnessError(`iptables in ${name} failed (exit ${result.exitCode}): ${result.output.trim()}`);
  }
}

/**
 * A node's container as pgdrill starts it: its ports published on 127.0.0.1 only (probes reach it
 * from this machine, nothing else can), on the run's private network under its node name.
 */
export class PrivateNetworkContainer extends GenericContainer {
  private readonly networkName: string;
  private readonly alias: string;
  private init = false;

  constructor(image: string, networkName: string, alias: string) {
    super(image);
    this.networkName = networkName;
    this.alias = alias;
    this.withNetworkMode(networkName);
  }

  /** The engine's init (tini) as PID 1, to reap what a process killed alone leaves behind. */
  withInit(): this {
    this.init = true;
    return this;
  }

  protected override async beforeContainerCreated(): Promise<void> {
    if (this.init) this.hostConfig.Init = true;
    for (const bindings of Object.values(this.hostConfig.PortBindings ?? {})) {
      for (const binding of bindings as Array<{ HostIp?: string }>) binding.HostIp = "127.0.0.1";
    }
    this.createOpts.NetworkingConfig = { EndpointsConfig: { [this.networkName]: { Aliases: [this.alias] } } };
  }
}
