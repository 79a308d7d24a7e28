/**
 * Which server answered, in the same statement as the probe's own work: `inet_server_addr():port`
 * of the connection's far end as the server sees it. The role probe samples it on every node by
 * name; select1 and writes return it with each operation, so an operation sent through a Service,
 * HAProxy or a pooler can be put on the node that really served it (history/operations.ts).
 */
export const SERVER_SQL = "coalesce(host(inet_server_addr()) || ':' || inet_server_port(), 'local socket')";

/** A server identity the readers may match on: a Unix socket names no server. */
export function serverOf(row: { server?: unknown } | undefined): string | undefined {
  const server = row?.server;
  return typeof server === "string" && server !== "local socket" ? server : undefined;
}
