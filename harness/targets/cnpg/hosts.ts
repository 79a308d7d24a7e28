/**
 * The node-down fault on kind: the Kubernetes node hosting an instance goes down at once, as a
 * crashed machine does. Its kind node is a Docker container running systemd, kubelet and every pod
 * on it; killing the container stops them all with no goodbye to the API server, so Kubernetes
 * learns of it only when the node's lease runs out (the node monitor's grace period) and the
 * operator only then. The heal starts the container again; kind nodes boot back into the cluster.
 * The control-plane node is refused: it holds the API server the drill observes through.
 */
import { $ } from "zx";
import { HarnessError } from "../../errors.ts";

const docker = $({ quiet: true, nothrow: true });
const KIND_ROLE_LABEL = "io.x-k8s.kind.role";

export class KindHosts {
  /** Node containers this drill took down, to start again. */
  private readonly down = new Set<string>();

  /**
   * Takes down the kind node `kubeNode`; resolves with what was done, for the History. `alsoOn`:
   * what else on it a failover needs (other instances, the operator's pod), named in that line.
   */
  async takeDown(kubeNode: string, instance: string, alsoOn: readonly string[] = []): Promise<string> {
    const role = await docker`docker inspect --format ${`{{index .Config.Labels "${KIND_ROLE_LABEL}"}}`} ${kubeNode}`;
    if (role.exitCode !== 0)
      throw new HarnessError(
        `the Kubernetes node ${kubeNode} (hosting ${instance}) is not a kind node container here: ` +
          `${role.stderr.trim() || "docker inspect failed"}`,
      );
    if (role.stdout.trim() === "control-plane") {
      throw new HarnessError(
        `${instance} runs on ${kubeNode}, kind's control-plane node: taking it down would take the API server with it. Give ` +
          `the Cluster's instances worker nodes (fixtures/kind/cluster.yaml has two)`,
      );
    }
    this.down.add(kubeNode);
    const killed = await docker`docker kill ${kubeNode}`;
    if (killed.exitCode !== 0) throw new HarnessError(`docker kill ${kubeNode} failed: ${killed.stderr.trim()}`);
    const hosting = [instance, ...alsoOn].join(", ");
    return `Kubernetes node ${kubeNode} (hosting ${hosting}) down: its kind node container killed`;
  }

  /** Starts every node this drill took down; idempotent. */
  async bringUp(): Promise<string | void> {
    const started: string[] = [];
    for (const node of this.down) {
      const state = await docker`docker inspect --format {{.State.Running}} ${node}`;
      if (state.exitCode === 0 && state.stdout.trim() === "true") {
        this.down.delete(node);
        continue;
      }
      const result = await docker`docker start ${node}`;
      if (result.exitCode !== 0) throw new HarnessError(`docker start ${node} failed: ${result.stderr.trim()}`);
      this.down.delete(node);
      started.push(node);
    }
    if (started.length > 0) return `Kubernetes node ${started.join(", ")} started again`;
  }
}
