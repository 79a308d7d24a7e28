/**
 * Which endpoint a select1 or writes probe dials. Besides the target's own (`rw`, a node, the
 * pooler), `every-node` lists every node's own address, in the target's node order, as one libpq
 * multi-host endpoint with the probe's targetSessionAttrs (default read-write): what an application
 * with `postgresql://n1,n2,n3/db?target_session_attrs=read-write` and no proxy does. Each host
 * carries its node's name, so an operation is labelled with the node that really answered.
 */
import type { Endpoint, TargetSessionAttrs } from "../connection/endpoint.ts";
import { TARGET_SESSION_ATTRS } from "../connection/endpoint.ts";
import { EVERY_NODE, SESSION_ATTRS } from "../scenario/probes.ts";
import type { StartedTopology } from "../targets/types.ts";

// The scenario schema keeps its own copy of libpq's list (it may not import the connection layer): they must agree.
const SAME: readonly TargetSessionAttrs[] = SESSION_ATTRS satisfies readonly TargetSessionAttrs[];
if (SAME.length !== TARGET_SESSION_ATTRS.length) throw new Error("scenario/probes.ts SESSION_ATTRS differs from TARGET_SESSION_ATTRS");

export function probeEndpoint(
  topology: StartedTopology,
  spec: { endpoint: string; targetSessionAttrs?: TargetSessionAttrs | undefined },
): () => Endpoint {
  if (spec.endpoint !== EVERY_NODE) return () => topology.endpoint(spec.endpoint);
  const attrs = spec.targetSessionAttrs ?? "read-write";
  return () => everyNodeEndpoint(topology, attrs);
}

export function everyNodeEndpoint(topology: StartedTopology, attrs: TargetSessionAttrs): Endpoint {
  const nodes = topology.nodes.map((node) => topology.endpoint(node));
  const [first] = nodes;
  if (!first) throw new Error(`the ${topology.kind} target has no nodes to list`);
  // The invoke event's guess; the complete event names the node that answered.
  const likely = attrs === "read-write" || attrs === "primary" ? topology.rwNode : first.node;
  return {
    ...first,
    node: likely,
    hosts: nodes.map(({ host, port, node }) => ({ host, port, node })),
    targetSessionAttrs: attrs,
  };
}
