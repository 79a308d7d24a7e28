/**
 * Which server answered, in the same statement as the probe's own work: `inet_server_addr():port`,
 * the address and port the server took the connection on. The role probe samples it on every node by
 * name; select1 and writes return it with each operation, so an operation sent through a Service,
 * HAProxy or a pooler can be put on the node that really served it (history/operations.ts).
 */
import { NO_SERVER } from "../history/served-by.ts";

export const SERVER_SQL = `coalesce(host(inet_server_addr()) || ':' || inet_server_port(), '${NO_SERVER}')`;

/** A server identity the readers may match on: a Unix socket names no server. */
export function serverOf(row: { server?: unknown } | undefined): string | undefined {
  const server = row?.server;
  return typeof server === "string" && server !== NO_SERVER ? server : undefined;
}
