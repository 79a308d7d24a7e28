/**
 * Network faults on cnpg pods: iptables and tc in a pod's network namespace, run from the kind node
 * it is scheduled on (crictl finds the pod's sandbox, nsenter enters its netns). This works under
 * any CNI, where NetworkPolicy needs one that enforces it, and it cuts clients, replicas, the
 * operator and kubelet alike.
 */
import { HarnessError } from "../../errors.ts";
import type { NodeShell } from "../shared/shaping.ts";
import { copyToKindNode, execOnKindNode, onKindNode } from "./kind.ts";
import type { ClusterObserver } from "./observer.ts";

export class PodNetwork {
  private readonly namespace: string;
  private readonly observer: ClusterObserver;
  /** The cluster is a kind cluster (made by pgdrill, or a kind- context): its nodes are containers here. */
  private readonly onKind: boolean;

  constructor(namespace: string, observer: ClusterObserver, onKind: boolean) {
    this.namespace = namespace;
    this.observer = observer;
    this.onKind = onKind;
  }

  /**
   * Runs a script in the pod's network namespace with its kind node's tools. Where the kernel has
   * no netem, the delay runs in pgdrill's packet delayer on the node, in the pod's namespace: it
   * needs python3 on the node, which pgdrill's node image has (fixtures/kind/build.sh) and
   * kindest/node has not; the shaping's tools check says so.
   */
  shell(node: string, missingOk: boolean): NodeShell {
    return {
      name: node,
      copy: async (content, path) => {
        const where = this.kubeNode(node, false);
        await copyToKindNode(where!.kubeNode, content, path);
      },
      run: async (script) => {
        const where = this.kubeNode(node, missingOk);
        return where
          ? execOnKindNode(where.kubeNode, podNetnsScript(this.namespace, node, script, missingOk))
          : { exitCode: 0, output: "" };
      },
    };
  }

  /**
   * Runs iptables in the pod's network namespace from its kind node: crictl finds the pod's
   * sandbox, nsenter enters its netns. This works under any CNI, where NetworkPolicy needs one
   * that enforces it, and it cuts clients, replicas, the operator and kubelet alike.
   */
  async run(node: string, rules: string, missingOk: boolean): Promise<void> {
    const where = this.kubeNode(node, missingOk);
    if (where) await onKindNode(where.kubeNode, podNetnsScript(this.namespace, node, rules, missingOk));
  }

  /** The kind node the pod runs on; null when it is gone and that is fine. */
  private kubeNode(node: string, missingOk: boolean): { kubeNode: string } | null {
    const kubeNode = this.observer.pods.get(node)?.nodeName;
    if (!this.onKind) {
      throw new HarnessError(
        "network faults need a kind cluster: pgdrill runs iptables and tc in the pod's network namespace from the kind node",
      );
    }
    if (!kubeNode) {
      if (missingOk) return null;
      throw new HarnessError(`pod ${node} is not scheduled on a node`);
    }
    return { kubeNode };
  }
}

/** crictl finds the pod's sandbox on its kind node, nsenter enters its network namespace and runs `rules` there. */
function podNetnsScript(namespace: string, node: string, rules: string, missingOk: boolean): string {
  return [
    `sandbox=$(crictl pods --namespace '^${namespace}$' --name '^${node}$' --state ready -q | head -n 1)`,
    `if [ -z "$sandbox" ]; then ${missingOk ? "exit 0" : `echo "no ready pod ${node}" >&2; exit 3`}; fi`,
    `pid=$(crictl inspectp --output go-template --template '{{.info.pid}}' "$sandbox")`,
    `nsenter -t "$pid" -n sh -c ${shellQuote(rules)}`,
  ].join("\n");
}

function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
