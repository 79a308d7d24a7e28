/**
 * Which node served an operation, by the server that answered it. A probe names the node its route
 * pointed at (the rw Service's endpoints, HAProxy's up backend, a pooler's backend), and pgdrill
 * sees a route change only a moment after clients feel it: under load, a write that reached the
 * new primary can still carry the old primary's name. The role probe asks every node by name which
 * server it is (`inet_server_addr():port`); select1 and writes return the same identity with each
 * operation. An operation whose server was sampled on exactly one node is put on that node.
 *
 * Left as recorded: an operation with no server (a failure, a local socket, an old History); a
 * server no role sample named (no role probe, or its node not sampled yet); a server sampled on
 * more than one node over the run (a managed endpoint's two host names on one server, an address
 * reused by a recreated container): the name cannot be told from the address there; and a server
 * its recorded node was itself sampled as (the route's name already says who served).
 */
/** What a server identity reads on a Unix-socket connection: it names no server to match. */
export const NO_SERVER = "local socket";

export class ServedBy {
  /** Each server address, and every node name the role probe saw it behind. */
  private readonly nodesByServer = new Map<string, Set<string>>();

  /** A role sample: `node`, asked by name, answered as `server`. */
  learn(node: string, server: string): void {
    if (server === NO_SERVER) return;
    let nodes = this.nodesByServer.get(server);
    if (!nodes) this.nodesByServer.set(server, (nodes = new Set()));
    nodes.add(node);
  }

  /** The node that served an operation `recorded` names and `server` answered; the recorded name when that cannot be told. */
  nodeFor(server: string | null, recorded: string | null): string | null {
    if (server === null) return recorded;
    const nodes = this.nodesByServer.get(server);
    if (!nodes || nodes.size !== 1) return recorded;
    if (recorded !== null && nodes.has(recorded)) return recorded;
    const [only] = nodes;
    return only ?? recorded;
  }
}
