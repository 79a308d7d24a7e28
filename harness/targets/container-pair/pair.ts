/**
 * Target: a PostgreSQL primary and a streaming standby in containers on a private Docker network,
 * each reachable from the host only on 127.0.0.1. Faults act on the containers: SIGKILL, a
 * PostgreSQL shutdown signal, the cgroup freezer, and iptables rules and traffic shaping (tc netem,
 * or pgdrill's delayer) in the node's network namespace.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { Wait, type StartedTestContainer } from "testcontainers";
import type { BackupOptions } from "../../scenario/backup.ts";
import { createBackupVolume, archiveSettings, pgbackrestEnvironment, REPOSITORY_PATH } from "../shared/pgbackrest.ts";
import { PairBackups, type FreshNodes, type NodeContainerFactory } from "./backups.ts";
import { toMs } from "../../duration.ts";
import { HarnessError, errorMessage } from "../../errors.ts";
import type { Endpoint } from "../../connection/endpoint.ts";
import { Session } from "../../connection/session.ts";
import { LABELS, dockerForRun, removeAndWait, removeLabelled, runLabels, type Docker } from "../shared/docker.ts";
import { chooseImage } from "../shared/image.ts";
import { ContainerNodeControls, containerControls, PrivateNetworkContainer, type ContainerNode } from "../shared/container-node.ts";
import type { ControlsOf, MonitoringSite, StartedTopology, StopMode, Topology, TopologyStartOptions } from "../types.ts";
import { CONTAINER_PAIR_NODES as NODES, containerPairPlugin, type ContainerPairTarget } from "./plugin.ts";
import { done, notYet, pollUntil } from "../shared/poll.ts";

const BOOTSTRAP = readFileSync(new URL("./bootstrap.sh", import.meta.url), "utf8");
const PG_PORT = 5432;
const PGDATA = "/var/lib/postgresql/pgdrill";
const POOLER_PORT = 6432;
const READY = /database system is ready to accept (read-only )?connections/;

type PairCapability = (typeof containerPairPlugin.capabilities)[number];

export function containerPair(spec: ContainerPairTarget): Topology {
  return {
    kind: "container-pair",
    nodes: NODES,
    initialPrimary: "primary",
    start: (options) => startPair(spec, options),
  };
}

interface PairNode extends ContainerNode {
  port: number;
}

async function startPair(spec: ContainerPairTarget, options: TopologyStartOptions): Promise<StartedTopology> {
  const docker = await dockerForRun(options.log);
  const { image, because } = await chooseImage(docker, { cli: options.image, scenario: spec.image });
  options.log(`image ${image} (${because})`);

  const labels = runLabels(options.runId, options.scenario);
  const networkName = `pgdrill-${options.runId}`;
  const secrets = { superuser: secret(), replication: secret() };
  const started: PairNode[] = [];
  // From here on, anything that fails removes what was started: the caller never gets a half pair.
  try {
    await docker.createNetwork({ Name: networkName, Driver: "bridge", CheckDuplicate: true, Labels: labels });
    const startupMs = toMs(spec.startupTimeout);
    const repository = spec.backup ? await createBackupVolume(docker, options.runId, labels) : null;
    // Every container of the pair, the pooler too: our labels, our bootstrap, the postgres user.
    const ours = (node: string, nodeImage: string) =>
      new PrivateNetworkContainer(nodeImage, networkName, node)
        .withName(`pgdrill-${options.runId}-${node}`)
        .withLabels({ ...labels, [LABELS.node]: node })
        .withUser("postgres")
        .withEntrypoint(["/bin/sh", "-c", BOOTSTRAP, "pgdrill-bootstrap"])
        .withStartupTimeout(startupMs);
    // The PostgreSQL nodes; with backups, each has the repository mounted and pgBackRest's settings,
    // and a restore makes fresh ones the same way.
    const common: NodeContainerFactory = (node, hostPort) => {
      const container = ours(node, image)
        .withExposedPorts(hostPort === undefined ? PG_PORT : { container: PG_PORT, host: hostPort })
        .withAddedCapabilities("NET_ADMIN")
        .withWaitStrategy(Wait.forLogMessage(READY));
      if (!spec.backup || !repository) return container;
      return container
        .withBindMounts([{ source: repository, target: REPOSITORY_PATH, mode: "rw" }])
        .withEnvironment({ ...pgbackrestEnvironment(spec.backup, PGDATA), PGDRILL_EXTRA_CONF: archiveConf(spec.backup) });
    };

    // Both at once: the standby's bootstrap waits for the primary (pg_isready) before cloning it,
    // so starting them side by side saves the standby's container start-up, ~1.5 s of every drill.
    const t0 = Date.now();
    const primaryUp = common("primary")
      .withEnvironment({
        PGDRILL_ROLE: "primary",
        PGDRILL_NODE: "primary",
        PGDRILL_SUPERUSER_PASSWORD: secrets.superuser,
        PGDRILL_REPLICATION_PASSWORD: secrets.replication,
        PGDRILL_SYNC_NAMES: spec.replication === "sync" ? "standby" : "",
      })
      .start()
      .then((container) => {
        options.log(`primary up in ${Date.now() - t0} ms`);
        return container;
      });
    const standbyUp = common("standby")
      .withEnvironment({
        PGDRILL_ROLE: "standby",
        PGDRILL_NODE: "standby",
        PGDRILL_PRIMARY_HOST: "primary",
        PGDRILL_REPLICATION_PASSWORD: secrets.replication,
      })
      .start();
    const [primary, standby] = await Promise.all([primaryUp, standbyUp]);
    started.push(await describeNode("primary", primary, networkName), await describeNode("standby", standby, networkName));
    options.log(`standby up in ${Date.now() - t0} ms (${spec.replication} streaming replication, cloned from the primary)`);
    if (options.signal?.aborted) throw new Error("interrupted while starting");
    let pooler: PoolerNode | null = null;
    if (spec.pooler) {
      const t2 = Date.now();
      const poolerImage = spec.pooler.image ?? image;
      const settings = Object.entries(spec.pooler.settings)
        .map(([key, value]) => `${key} = ${value}`)
        .join("\\n");
      const container = await ours("pooler", poolerImage)
        .withExposedPorts(POOLER_PORT)
        .withEnvironment({
          PGDRILL_ROLE: "pooler",
          PGDRILL_POOL_BACKEND: "primary",
          PGDRILL_POOL_MODE: spec.pooler.mode,
          PGDRILL_POOL_SIZE: String(spec.pooler.poolSize),
          PGDRILL_POOL_SETTINGS: settings,
          PGDRILL_SUPERUSER_PASSWORD: secrets.superuser,
        })
        .withWaitStrategy(Wait.forLogMessage(/process up: PgBouncer/))
        .start();
      pooler = { container, port: container.getMappedPort(POOLER_PORT), backend: "primary" };
      options.log(`pooler up in ${Date.now() - t2} ms (PgBouncer, ${spec.pooler.mode} mode, image ${poolerImage})`);
    }
    const pair = new StartedContainerPair(docker, options.runId, networkName, started, secrets, pooler, spec.replication);
    await pair.waitForStreaming(spec.replication, startupMs);
    if (spec.backup && repository) {
      await pair.startBackups(spec.backup, `docker volume ${repository}`, { image: common, secrets, startupMs }, options);
    }
    return pair;
  } catch (error) {
    await removeLabelled(docker, { runId: options.runId }).catch(() => undefined);
    throw new HarnessError(`could not start the container pair: ${errorMessage(error)}`, { cause: error });
  }
}

async function describeNode(name: string, container: StartedTestContainer, networkName: string): Promise<PairNode> {
  return { name, container, port: container.getMappedPort(PG_PORT), ip: container.getIpAddress(networkName) };
}

/** PgBouncer in front of the pair; `backend` is the node its [databases] entry points at now. */
interface PoolerNode {
  container: StartedTestContainer;
  port: number;
  backend: string;
}

/** The archive settings as lines of postgresql.conf, which the bootstrap appends on the primary. */
function archiveConf(backup: BackupOptions): string {
  return Object.entries(archiveSettings(backup))
    .map(([key, value]) => `${key} = '${value}'`)
    .join("\n");
}

function secret(): string {
  return randomBytes(18).toString("base64url");
}

class StartedContainerPair implements StartedTopology {
  readonly kind = "container-pair";
  readonly nodes = NODES;
  readonly controls: ControlsOf<PairCapability> = {
    kill: { kill: (node) => this.containers.kill(node) },
    stop: { stop: (node, mode) => this.stop(node, mode) },
    ...containerControls(() => this.containers),
    promotion: { promote: (node) => this.promote(node), repoint: (endpoint, node) => this.repoint(endpoint, node) },
    backup: {
      backup: (type, verify) => this.backups().controls().backup.backup(type, verify),
      restore: (request) => this.backups().controls().backup.restore(request),
    },
    disaster: {
      destroyData: () => this.backups().controls().disaster.destroyData(),
      damageTable: (how) => this.backups().controls().disaster.damageTable(how),
      corruptFile: (node) => this.backups().controls().disaster.corruptFile(node),
    },
  };
  private pairBackups: PairBackups | null = null;
  private rw = "primary";
  private readonly docker: Docker;
  private readonly runId: string;
  private readonly networkName: string;
  private readonly byName: Map<string, PairNode>;
  private readonly password: string;
  private readonly replication: "async" | "sync" = "async";
  private readonly pooler: PoolerNode | null;
  private readonly containers: ContainerNodeControls;
  private tornDown = false;

  constructor(
    docker: Docker,
    runId: string,
    networkName: string,
    nodes: PairNode[],
    secrets: { superuser: string; replication: string },
    pooler: PoolerNode | null,
    replication: "async" | "sync",
  ) {
    this.docker = docker;
    this.runId = runId;
    this.networkName = networkName;
    this.byName = new Map(nodes.map((node) => [node.name, node]));
    this.password = secrets.superuser;
    this.replication = replication;
    this.pooler = pooler;
    this.containers = new ContainerNodeControls(docker, (name) => this.node(name));
  }

  /** Both nodes, as the superuser; the pooler is not a PostgreSQL to export. */
  get monitoringSite(): MonitoringSite {
    const nodes = [...this.byName.values()].map((node) => ({
      node: node.name,
      container: node.container.getId(),
      host: node.name,
      port: PG_PORT,
      user: "postgres",
      password: this.password,
    }));
    return { network: this.networkName, nodes, scrape: [] };
  }

  get rwNode(): string {
    return this.rw;
  }

  endpoint(name: string): Endpoint {
    if (name === "pooler") {
      if (!this.pooler) throw new HarnessError('this container pair has no pooler: add "pooler: {}" to the target');
      // Operations through the pooler are served by the node it points at.
      return {
        node: this.pooler.backend,
        host: "127.0.0.1",
        port: this.pooler.port,
        user: "postgres",
        password: this.password,
        database: "postgres",
      };
    }
    const node = this.node(name === "rw" ? this.rw : name);
    return { node: node.name, host: "127.0.0.1", port: node.port, user: "postgres", password: this.password, database: "postgres" };
  }

  /** The pair's nodes keep their names: nothing to resolve. */
  async resolve(node: string): Promise<string> {
    return node;
  }

  redact(text: string): string {
    return text.split(this.password).join("***");
  }

  private async repoint(_endpoint: "rw", node: string): Promise<void> {
    this.node(node);
    this.rw = node;
    if (this.pooler && this.pooler.backend !== node) {
      // What the guide's Pooler does when the rw service moves: new server connections go to the new primary.
      const script = `sed -i 's/^\\* = host=[^ ]*/* = host=${node}/' /tmp/pgbouncer/pgbouncer.ini && kill -HUP 1`;
      const result = await this.pooler.container.exec(["sh", "-c", script]);
      if (result.exitCode !== 0)
        throw new HarnessError(`repointing the pooler to ${node} failed (exit ${result.exitCode}): ${result.output.trim()}`);
      this.pooler.backend = node;
    }
  }

  /** Waits until the standby streams from the primary (and, for sync, is the synchronous one). */
  async waitForStreaming(replication: "async" | "sync", timeoutMs: number): Promise<void> {
    const wanted = replication === "sync" ? "sync" : "async";
    let last = "no walsender yet";
    await pollUntil(
      async () => {
        const session = await Session.connect(this.endpoint("primary"), { connectTimeoutMs: 2000, applicationName: "pgdrill-setup" }).catch(
          () => null,
        );
        // An unreachable primary keeps the last thing it said.
        if (!session) return notYet(last);
        try {
          const result = await session.query<{ state: string; sync_state: string }>(
            "SELECT state, sync_state FROM pg_stat_replication WHERE application_name = 'standby'",
            [],
            2000,
          );
          const row = result.rows[0];
          if (row?.state === "streaming" && row.sync_state === wanted) return done(undefined);
          last = row ? `state ${row.state}, sync_state ${row.sync_state}` : "no walsender yet";
          return notYet(last);
        } finally {
          await session.close();
        }
      },
      {
        deadline: Date.now() + timeoutMs,
        everyMs: 200,
        before: last,
        gaveUp: (why) => new HarnessError(`the standby did not start ${wanted} streaming within ${timeoutMs} ms (${why})`),
      },
    );
  }

  private async stop(name: string, mode: StopMode): Promise<void> {
    // PostgreSQL's own shutdown signals, sent to postgres as PID 1: smart = TERM, fast = INT, immediate = QUIT.
    const signal = { smart: "SIGTERM", fast: "SIGINT", immediate: "SIGQUIT" }[mode];
    const container = this.docker.getContainer(this.node(name).container.getId());
    await container.kill({ signal });
  }

  private async promote(name: string): Promise<void> {
    const session = await Session.connect(this.endpoint(name), { connectTimeoutMs: 5000, applicationName: "pgdrill-promote" });
    try {
      const result = await session.query<{ promoted: boolean }>("SELECT pg_promote(true, 30) AS promoted", [], 35_000);
      if (!result.rows[0]?.promoted) throw new HarnessError(`${name} did not finish promotion within 30 s`);
    } finally {
      await session.close();
    }
  }

  /** With the target's `backup`: the repository's stanza, the setup event, and the archive samples for the drill. */
  async startBackups(options: BackupOptions, repository: string, fresh: FreshNodes, start: TopologyStartOptions): Promise<void> {
    const now = start.now ?? (() => 0);
    this.pairBackups = new PairBackups(
      {
        nodes: this.nodes,
        exec: (node, argv, user = "postgres") => this.node(node).container.exec(argv, { user }),
        endpoint: (node) => this.endpoint(node),
        primary: () => this.rw,
        hostPort: (node) => this.byName.get(node)?.port,
        kill: (node) => this.containers.kill(node),
        remove: (node) => this.removeNode(node),
        replace: async (node, container) => {
          this.byName.set(node, await describeNode(node, container, this.networkName));
        },
        repoint: async (node) => {
          await this.repoint("rw", node);
          start.record?.({ kind: "endpoint", endpoint: "rw", node });
        },
        waitForStreaming: () => this.waitForStreaming(this.replication, fresh.startupMs),
        record: (observation) => start.record?.(observation),
        now,
        redact: (text) => this.redact(text),
        log: start.log,
        repository,
      },
      options,
      fresh,
    );
    await this.pairBackups.start((start.durationMs ?? 600_000) + 600_000);
  }

  private backups(): PairBackups {
    if (!this.pairBackups) throw new HarnessError('this container pair has no backups: add "backup: {}" to the target');
    return this.pairBackups;
  }

  /** A node's container removed with its volumes, by its name, and the name free for the node that replaces it. */
  private removeNode(name: string): Promise<void> {
    return removeAndWait(this.docker, `pgdrill-${this.runId}-${name}`);
  }

  async teardown(): Promise<string[]> {
    if (this.tornDown) return [];
    this.tornDown = true;
    await this.pairBackups?.stop();
    const removed = await removeLabelled(this.docker, { runId: this.runId });
    return removed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.teardown();
  }

  private node(name: string): PairNode {
    const node = this.byName.get(name);
    if (!node) throw new HarnessError(`no node named "${name}" in the container pair (nodes: ${[...this.byName.keys()].join(", ")})`);
    return node;
  }
}
