/**
 * The damage a restore drill repairs, done the way it happens: a human error in SQL on the primary
 * (DROP or TRUNCATE of pgdrill's writes table, in the WAL like any other transaction), or a data
 * file overwritten behind PostgreSQL's back. Each resolves with what a restore needs to know of it.
 */
import { HarnessError } from "../../errors.ts";
import type { Endpoint } from "../../connection/endpoint.ts";
import { Session } from "../../connection/session.ts";
import type { BackupControls, TableDamage } from "../controls.ts";
import type { BackupKeeper, ExecResult } from "./backup-keeper.ts";

/** The writes probe's table on targets pgdrill made (probe/writes.ts's WRITES_TABLE): the data a drill can check. */
const WRITES_TABLE = "pgdrill.writes";

export interface TableDamageDone {
  /** The transaction that did it: a restore to just before it stops at this xid, exclusive. */
  xid: string;
  detail: string;
}

/** DROP or TRUNCATE the writes table on the primary, in one transaction whose xid is kept. */
export async function damageWritesTable(primary: Endpoint, how: TableDamage): Promise<TableDamageDone> {
  const session = await Session.connect(primary, { connectTimeoutMs: 5000, applicationName: "pgdrill-disaster" });
  try {
    await session.query("BEGIN", [], 5000);
    const result = await session.query<{ xid: string }>("SELECT txid_current()::text AS xid", [], 5000);
    const xid = result.rows[0]?.xid;
    if (!xid) throw new HarnessError("the primary did not say its transaction id");
    // The probes' inserts hold a lock on the table only for their own short transactions.
    await session.query(how === "drop" ? `DROP TABLE ${WRITES_TABLE}` : `TRUNCATE ${WRITES_TABLE}`, [], 30_000);
    await session.query("COMMIT", [], 30_000);
    return { xid, detail: `${how === "drop" ? "DROP TABLE" : "TRUNCATE"} ${WRITES_TABLE} on ${primary.node} (xid ${xid})` };
  } finally {
    await session.close();
  }
}

/** Where the writes table's first segment lives under the data directory, after a checkpoint wrote its pages out. */
export async function writesTableFile(node: Endpoint): Promise<string> {
  const session = await Session.connect(node, { connectTimeoutMs: 5000, applicationName: "pgdrill-disaster" });
  try {
    await session.query("CHECKPOINT", [], 60_000);
    const result = await session.query<{ path: string | null }>(`SELECT pg_relation_filepath('${WRITES_TABLE}') AS path`, [], 5000);
    const path = result.rows[0]?.path;
    if (!path) throw new HarnessError(`${node.node} has no ${WRITES_TABLE} to corrupt`);
    return path;
  } finally {
    await session.close();
  }
}

/**
 * A shell script that overwrites the first page of `relativePath` with random bytes. The page's
 * checksum no longer matches: PostgreSQL (its data checksums on) refuses the page when it next reads
 * it from disk, and pgBackRest's next backup names it.
 */
export function corruptScript(pgdata: string, relativePath: string): string {
  return `dd if=/dev/urandom of='${pgdata}/${relativePath}' bs=8192 count=1 conv=notrunc status=none`;
}

/** A container target as its disasters need it: its nodes now, and how to kill, remove and reach them. */
export interface DisasterSite {
  readonly nodes: readonly string[];
  /** SIGKILL to a node's container. */
  kill(node: string): Promise<void>;
  /** Removes a node's container with its volumes; resolves once it is gone. */
  remove(node: string): Promise<void>;
  exec(node: string, argv: string[], user?: "postgres" | "root"): Promise<ExecResult>;
  endpoint(node: string): Endpoint;
  /** The node that takes writes now. */
  primary(): string;
  /** PostgreSQL's data directory in a node's container. */
  readonly pgdata: string;
}

/** The `disaster` control of a container target with backups, each disaster recorded by its keeper at the moment it struck. */
export function disasterControls(site: DisasterSite, keeper: BackupKeeper): BackupControls["disaster"] {
  return {
    // Every node killed at once (that moment is the disaster), then removed with everything on it.
    async destroyData() {
      const nodes = [...site.nodes];
      await Promise.all(nodes.map((node) => site.kill(node).catch(() => undefined)));
      keeper.disasterStruck("destroy-data", nodes, `${nodes.join(", ")} killed and removed with their data`);
      await Promise.all(nodes.map((node) => site.remove(node)));
      return `${nodes.join(", ")}: data destroyed`;
    },
    async damageTable(how) {
      const primary = site.primary();
      const damage = await damageWritesTable(site.endpoint(primary), how);
      keeper.disasterStruck(how === "drop" ? "drop-table" : "truncate-table", [primary], damage.detail, damage.xid);
      return damage.detail;
    },
    async corruptFile(node) {
      const path = await writesTableFile(site.endpoint(node));
      const result = await site.exec(node, ["sh", "-c", corruptScript(site.pgdata, path)], "root");
      if (result.exitCode !== 0) throw new HarnessError(`corrupting ${path} on ${node} failed: ${result.output.trim()}`);
      const detail = `first page of ${path} on ${node} overwritten`;
      keeper.disasterStruck("corrupt-file", [node], detail);
      return detail;
    },
  };
}
