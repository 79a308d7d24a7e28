/**
 * Target: a pg_auto_failover formation in containers on a private Docker network, all from
 * pgdrill's image: the monitor, then node1 (the first primary), then the other data nodes, each run
 * by its own `pg_autoctl`. Every port is published on 127.0.0.1 only: probes reach each node and
 * the multi-host URL `pg_autoctl show uri` gives (its hosts mapped to those ports), and the observer
 * reads the monitor's tables from this machine. The monitor decides failovers; faults act on the
 * containers as on the other container targets', and on the keeper or PostgreSQL alone.
 */
import { randomBytes } from "node:crypto";
import { Wait } from "testcontainers";
import { toMs } from "../../duration.ts";
import { HarnessError, InputError, errorMessage } from "../../errors.ts";
import { localImageFor } from "../shared/image.ts";
import { PrivateNetworkContainer } from "../shared/container-node.ts";
import { LABELS, dockerForRun, removeLabelled, runLabels } from "../shared/docker.ts";
import { printedByRun, startNamed } from "../shared/start-named.ts";
import type { Observation, StartedTopology, Topology, TopologyStartOptions } from "../types.ts";
import { MONITOR_READY, PG_PORT, STARTING, monitorScript, nodeScript } from "./config.ts";
import { MonitorObserver, settled } from "./observer.ts";
import { MONITOR, pgafNodeNames, targetProblems, type PgAutoFailoverTarget } from "./plugin.ts";
import { StartedPgAutoFailover, type FormationNode } from "./started.ts";

export function pgAutoFailoverTopology(spec: PgAutoFailoverTarget): Topology {
  // Validation refuses these with the field and fix; a topology built in code gets the same words.
  const problems: InputError[] = [];
  targetProblems(spec, (path, problem, fix) => problems.push(new InputError(path.join("."), problem, fix)));
  if (problems[0]) throw problems[0];
  const nodes = pgafNodeNames(spec);
  return {
    kind: "pg-auto-failover",
    nodes,
    // node1 registers first and the others wait for it, so the monitor makes it the first primary.
    initialPrimary: nodes[0]!,
    start: (options) => startFormation(spec, options),
  };
}

async function startFormation(spec: PgAutoFailoverTarget, options: TopologyStartOptions): Promise<StartedTopology> {
  const docker = await dockerForRun(options.log);
  const { image, because } = await localImageFor(
    docker,
    { cli: options.image, scenario: spec.image },
    "pg-auto-failover",
    "pg_auto_failover",
  );
  options.log(`pg-auto-failover: image ${image} (${because})`);

  const labels = runLabels(options.runId, options.scenario);
  const networkName = `pgdrill-${options.runId}`;
  const password = randomBytes(18).toString("base64url");
  const startupMs = toMs(spec.startupTimeout);
  const startupSeconds = Math.ceil(startupMs / 1000);
  const deadline = Date.now() + startupMs;
  let observer: MonitorObserver | null = null;
  try {
    await docker.createNetwork({ Name: networkName, Driver: "bridge", CheckDuplicate: true, Labels: labels });
    const ours = (name: string, script: string, environment: Record<string, string> = {}) =>
      new PrivateNetworkContainer(image, networkName, name)
        .withName(`pgdrill-${options.runId}-${name}`)
        .withLabels({ ...labels, [LABELS.node]: name })
        .withUser("postgres")
        .withEnvironment({ PGDRILL_NODE: name, ...environment })
        .withEntrypoint(["/bin/sh", "-c", script, "pgdrill-pgaf"])
        .withInit()
        .withExposedPorts(PG_PORT)
        .withAddedCapabilities("NET_ADMIN")
        .withWaitStrategy(Wait.forLogMessage(STARTING))
        .withStartupTimeout(startupMs);
    const t0 = Date.now();
    // The nodes register with the monitor as they start: it must be serving for good first.
    const monitorContainer = await startNamed(
      docker,
      ours(MONITOR, monitorScript(spec)).withWaitStrategy(Wait.forLogMessage(MONITOR_READY)),
      MONITOR,
    );
    const monitor: FormationNode = {
      name: MONITOR,
      container: monitorContainer,
      pgPort: monitorContainer.getMappedPort(PG_PORT),
      ip: monitorContainer.getIpAddress(networkName),
    };
    const nodes = await Promise.all(
      pgafNodeNames(spec).map(async (name): Promise<FormationNode> => {
        const container = await startNamed(
          docker,
          ours(name, nodeScript(spec, name, startupSeconds), { PGDRILL_PASSWORD: password }),
          name,
        );
        return { name, container, pgPort: container.getMappedPort(PG_PORT), ip: container.getIpAddress(networkName) };
      }),
    );
    options.log(`pg-auto-failover: the monitor and ${nodes.length} data nodes started in ${Date.now() - t0} ms`);
    if (options.signal?.aborted) throw new Error("interrupted while starting");

    const record: (observation: Observation) => void = options.record ?? (() => undefined);
    const ssl = spec.ssl === "off" ? false : { rejectUnauthorized: false };
    observer = new MonitorObserver({
      monitor: () => ({
        node: MONITOR,
        host: "127.0.0.1",
        port: monitor.pgPort,
        user: "autoctl_node",
        password: "",
        database: "pg_auto_failover",
        ssl,
      }),
      record,
      log: options.log,
      // A TLS connect on a busy machine can take longer than a query: 1 s before the monitor counts as unreachable.
      requestTimeoutMs: 1000,
    });
    observer.start();
    const watching = observer;
    const names = nodes.map((node) => node.name);
    // Settled: every node in its goal state, by the monitor; again once a formation setting changed them.
    const untilSettled = () =>
      watching.waitUntil(
        () => settled(watching.picture, names),
        Math.max(1000, deadline - Date.now()),
        "the formation settling",
        options.signal,
      );
    await untilSettled();
    const started = new StartedPgAutoFailover({
      docker,
      runId: options.runId,
      network: networkName,
      spec,
      nodes,
      monitor,
      observer,
      password,
      ssl,
    });
    if (spec.number_sync_standbys > 0) {
      await started.setNumberSyncStandbys(spec.number_sync_standbys);
      await untilSettled();
    }
    const uri = await started.showUri();
    await started.untilClientsCanLogIn(Math.max(1000, deadline - Date.now()));
    started.startupMs = Date.now() - t0;
    options.log(
      `pg-auto-failover: formation settled in ${started.startupMs} ms (primary ${started.rwNode}, ${names.length - 1} secondary); ` +
        `pg_autoctl show uri: ${uri}`,
    );
    return started;
  } catch (error) {
    await observer?.stop();
    // What the containers said is the evidence (a create refused, a node that could not reach the monitor): kept before removal.
    const printed = await printedByRun(docker, options.runId);
    await removeLabelled(docker, { runId: options.runId }).catch(() => undefined);
    const said = printed ? `\n${printed.split(password).join("***")}` : "";
    throw new HarnessError(`could not start the pg-auto-failover target: ${errorMessage(error)}${said}`, { cause: error });
  }
}
