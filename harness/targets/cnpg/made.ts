/**
 * What a cnpg drill creates on the cluster, and nothing else (a kind cluster, a namespace, the
 * Cluster, services, the runner pod), and how teardown removes exactly that: a Cluster of the same
 * name that pgdrill did not create is a conflict, never taken over.
 */
import { InputError, errorMessage } from "../../errors.ts";
import type { CnpgTarget } from "./plugin.ts";
import { forgetOwner } from "../shared/owners.ts";
import { deleteKindCluster, kindResource } from "./kind.ts";
import { describeKubeError, kubeFailure, statusOf, type Kube } from "./kube.ts";
import { done, notYet, pollUntil } from "../shared/poll.ts";

/** Teardown waits this long for the namespace it deleted to be gone (its pods stopped, its volumes released). */
const NAMESPACE_GONE_MS = 120_000;

/** What this run created, and nothing else: teardown deletes exactly this. */
export interface Made {
  kindCluster?: string;
  namespace?: string;
  /** The Cluster, services and the runner pod it created (by POST: an existing one is a conflict, never taken over). */
  objects: Array<{ kind: "Cluster" | "Service" | "Pod"; name: string }>;
}

export function clusterConflict(spec: CnpgTarget, namespace: string): InputError {
  return new InputError(
    "target.name",
    `a Cluster "${spec.name}" already exists in namespace ${namespace} and pgdrill did not create it, so it will not apply ` +
      `over it or delete it`,
    "Choose another target.name or target.namespace (pgdrill creates pgdrill-<run id> when namespace is unset).",
  );
}

export function describeMade(made: Made, namespace: string): string {
  return [
    made.namespace ? `namespace ${made.namespace}` : null,
    ...made.objects.map((object) => `${object.kind} ${namespace}/${object.name}`),
  ]
    .filter((part) => part !== null)
    .join(", ");
}

/** Creates the Cluster; the operator's admission webhook answers a little after its pod is ready, so 5xx are retried. */
export async function createWithRetry(
  kube: Kube,
  object: Parameters<Kube["create"]>[0],
  deadline: number,
  conflict: () => Error,
  signal?: AbortSignal,
): Promise<void> {
  let last: unknown;
  await pollUntil(
    async () => {
      try {
        await kube.create(object);
        return done(undefined);
      } catch (error) {
        last = error;
        const status = statusOf(error);
        if (status === 409) throw conflict();
        if (status !== undefined && status < 500) throw kubeFailure(`creating ${object.kind} ${object.metadata?.name ?? ""}`, error);
        return notYet(errorMessage(error));
      }
    },
    {
      deadline,
      everyMs: 2000,
      signal,
      gaveUp: () => kubeFailure(`creating ${object.kind} ${object.metadata?.name ?? ""} (the operator's webhook never answered)`, last),
    },
  );
}

export async function removeMade(kube: Kube | null, made: Made, namespace: string, log: (line: string) => void): Promise<string[]> {
  const removed: string[] = [];
  if (made.kindCluster) {
    await deleteKindCluster(made.kindCluster).then(
      () => {
        forgetOwner(kindResource(made.kindCluster!));
        removed.push(kindResource(made.kindCluster!));
      },
      (error: unknown) => log(`cnpg: ${errorMessage(error)}`),
    );
    return removed;
  }
  if (!kube) return removed;
  if (made.namespace) {
    // Removed means gone, not Terminating: on a cluster pgdrill did not make, what it leaves is the user's to find.
    await kube.deleteNamespaceAndWait(made.namespace, NAMESPACE_GONE_MS).then(
      ({ outcome }) =>
        removed.push(
          outcome === "gone"
            ? `namespace ${made.namespace}`
            : `namespace ${made.namespace} (deleted, but still terminating after ${NAMESPACE_GONE_MS / 1000} s: \`kubectl get ` +
                `all,pvc -n ${made.namespace}\` shows what holds it)`,
        ),
      (error: unknown) => log(`cnpg: deleting namespace ${made.namespace}: ${describeKubeError(error)}`),
    );
    return removed;
  }
  // A namespace pgdrill did not create: only the objects it created there.
  for (const object of [...made.objects].reverse()) {
    try {
      if (object.kind === "Cluster") await kube.deleteCluster(namespace, object.name);
      else if (object.kind === "Pod")
        await kube.deletePod(namespace, object.name, 0).catch((error: unknown) => {
          if (statusOf(error) !== 404) throw error;
        });
      else await kube.deleteService(namespace, object.name);
      removed.push(`${object.kind} ${namespace}/${object.name}`);
    } catch (error) {
      log(`cnpg: deleting ${object.kind} ${namespace}/${object.name}: ${describeKubeError(error)}`);
    }
  }
  return removed;
}
