/**
 * Where a connection goes. Endpoints are the hand-over point of the connection layer
 * (harness/connection/), which sits below both targets and probes: a target describes how to reach
 * `rw`, `ro` or one of its nodes as an `Endpoint`; a probe opens sessions on it (session.ts).
 * Neither has to import the other for that.
 */
import type pg from "pg";

export interface Endpoint {
  /** The node this endpoint reaches now. */
  node: string;
  host: string;
  port: number;
  user: string;
  password: string;
  database: string;
  /** TLS as `pg` takes it (from the URL's sslmode, or the scenario's ssl options). */
  ssl?: pg.ClientConfig["ssl"];
}
