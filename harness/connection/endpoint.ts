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
  /**
   * A libpq multi-host list (`host=a,b port=1,2`, `postgresql://a:1,b:2/db`): every host to try, in
   * order, `host`/`port` being the first. Absent: one host.
   */
  hosts?: ReadonlyArray<HostPort>;
  /** libpq's target_session_attrs: which server a connection may settle on. Absent: "any". */
  targetSessionAttrs?: TargetSessionAttrs;
  /** libpq's load_balance_hosts: "random" shuffles the hosts per connection. Absent: "disable". */
  loadBalanceHosts?: "disable" | "random";
  /** libpq's connect_timeout from the connection string, per host: over the connecting code's own timeout when set. */
  connectTimeoutMs?: number;
}

export interface HostPort {
  host: string;
  port: number;
  /** The node this address is (a target's own node list): an operation that lands here is labelled with it. */
  node?: string;
}

/** As libpq documents them (PostgreSQL 14+). */
export const TARGET_SESSION_ATTRS = ["any", "read-write", "read-only", "primary", "standby", "prefer-standby"] as const;
export type TargetSessionAttrs = (typeof TARGET_SESSION_ATTRS)[number];
