/**
 * Target: a Patroni cluster in containers on a private Docker network, all from pgdrill's image:
 * etcd members (Patroni's DCS, v3 API), N PostgreSQL nodes each run by Patroni (REST API on 8008),
 * and HAProxy in front, sending rw clients to the node whose Patroni answers GET /primary and ro
 * clients to those answering GET /replica. Every port is published on 127.0.0.1 only, so probes
 * reach rw/ro through HAProxy and each node directly, and the observer polls the REST APIs and
 * HAProxy's stats socket from the host. Patroni decides failovers; faults act on the node
 * containers as on the container pair's (SIGKILL, PostgreSQL's shutdown signals, the cgroup
 * freezer, iptables and shaping in the node's network namespace), and a switchover is Patroni's
 * own `POST /switchover`, as patronictl sends it.
 */
import { randomBytes } from "node:crypto";
import { Wait } from "testcontainers";
import { toMs } from "../../duration.ts";
import { HarnessError, InputError, errorMessage } from "../../errors.ts";
import { localImageFor } from "../shared/image.ts";
import { LABELS, dockerForRun, removeLabelled, runLabels } from "../shared/docker.ts";
import { startNamed } from "../shared/start-named.ts";
import { PrivateNetworkContainer } from "../shared/container-node.ts";
import { createBackupVolume, pgbackrestEnvironment, REPOSITORY_PATH } from "../shared/pgbackrest.ts";
import type { StartedTopology, Topology, TopologyStartOptions } from "../types.ts";
import {
  DATA_DIR,
  HAPROXY_NAME,
  HAPROXY_PORTS,
  PG_PORT,
  REST_PORT,
  etcdArguments,
  haproxyConfig,
  patroniYaml,
  type Secrets,
} from "./config.ts";
import type { NodeContainerFactory } from "./backups.ts";
import { RESTORE_SCRIPT, RESTORE_SCRIPT_PATH } from "./restore-bootstrap.ts";
import { PatroniObserver, upServers, type PatroniObservation, type Picture } from "./observer.ts";
import { entrypoint, STARTING } from "./entrypoint.ts";
import { StartedPatroni, type ClusterNode, type DcsMember } from "./started.ts";
import { etcdMemberNames, patroniNodeNames, targetProblems, type PatroniTarget } from "./plugin.ts";

export function patroniTopology(spec: PatroniTarget): Topology {
  // Validation refuses these with the field and fix; a topology built in code gets the same words.
  const problems: InputError[] = [];
  targetProblems(spec, (path, problem, fix) => problems.push(new InputError(path.join("."), problem, fix)));
  if (problems[0]) throw problems[0];
  const nodes = patroniNodeNames(spec);
  return {
    kind: "patroni",
    nodes,
    // pg1 bootstraps the cluster (the other nodes' Patroni waits for its PostgreSQL), so it is the first leader.
    initialPrimary: nodes[0]!,
    start: (options) => startPatroni(spec, options),
  };
}
async function startPatroni(spec: PatroniTarget, options: TopologyStartOptions): Promise<StartedTopology> {
  const docker = await dockerForRun(options.log);
  const { image, because } = await localImageFor(
    docker,
    { cli: options.image, scenario: spec.image },
    "patroni",
    "patroni, etcd and haproxy",
  );
  options.log(`patroni: image ${image} (${because})`);

  const labels = runLabels(options.runId, options.scenario);
  const networkName = `pgdrill-${options.runId}`;
  const secrets: Secrets = { superuser: secret(), replication: secret() };
  const startupMs = toMs(spec.startupTimeout);
  const deadline = Date.now() + startupMs;
  let observer: PatroniObserver | null = null;
  try {
    await docker.createNetwork({ Name: networkName, Driver: "bridge", CheckDuplicate: true, Labels: labels });
    const ours = (name: string, script: string, environment: Record<string, string>) =>
      new PrivateNetworkContainer(image, networkName, name)
        .withName(`pgdrill-${options.runId}-${name}`)
        .withLabels({ ...labels, [LABELS.node]: name })
        .withUser("postgres")
        .withEnvironment({ PGDRILL_NODE: name, ...environment })
        .withEntrypoint(["/bin/sh", "-c", script, "pgdrill-patroni"])
        .withStartupTimeout(startupMs);
    const t0 = Date.now();

    // etcd first: Patroni waits 5 s between tries when its DCS does not answer at start.
    const token = `pgdrill-${options.runId}`;
    const dcsMembers = await Promise.all(
      etcdMemberNames(spec).map(async (member): Promise<DcsMember> => {
        const container = await startNamed(
          docker,
          ours(member, entrypoint("etcd", null, etcdArguments(spec, member, token).join(" ")), {}).withWaitStrategy(
            Wait.forLogMessage(/serving client traffic|ready to serve client requests/),
          ),
          member,
        );
        return { name: member, id: container.getId(), ip: container.getIpAddress(networkName), container };
      }),
    );
    options.log(`patroni: etcd (${spec.dcs.members} member${spec.dcs.members === 1 ? "" : "s"}) up in ${Date.now() - t0} ms`);

    // With backups: the run's repository, mounted in every PostgreSQL node with pgBackRest's settings.
    const repository = spec.backup ? await createBackupVolume(docker, options.runId, labels) : null;
    const bootstrapper = patroniNodeNames(spec)[0]!;
    // A Patroni node's container, for the start and for a restore's fresh members (backups.ts).
    const nodeContainer: NodeContainerFactory = (name, how) => {
      const waitFor = name === bootstrapper ? undefined : { host: bootstrapper, seconds: how.waitSeconds };
      const container = ours(name, entrypoint("patroni", "/tmp/pgdrill/patroni.yml", "patroni /tmp/pgdrill/patroni.yml", waitFor, true), {
        PGDRILL_CONFIG: patroniYaml(spec, name, secrets, how.restore),
        ...(spec.backup ? pgbackrestEnvironment(spec.backup, DATA_DIR) : {}),
      })
        .withInit()
        .withExposedPorts(
          ...(how.ports
            ? [
                { container: PG_PORT, host: how.ports.pg },
                { container: REST_PORT, host: how.ports.rest },
              ]
            : [PG_PORT, REST_PORT]),
        )
        .withAddedCapabilities("NET_ADMIN")
        .withWaitStrategy(Wait.forLogMessage(STARTING));
      if (repository) container.withBindMounts([{ source: repository, target: REPOSITORY_PATH, mode: "rw" }]);
      if (how.restore) container.withCopyContentToContainer([{ content: RESTORE_SCRIPT, target: RESTORE_SCRIPT_PATH, mode: 0o755 }]);
      return container;
    };
    const pgNodes = await Promise.all(
      patroniNodeNames(spec).map(async (name) => {
        const container = await startNamed(docker, nodeContainer(name, { waitSeconds: Math.ceil(startupMs / 1000) }), name);
        return {
          name,
          container,
          pgPort: container.getMappedPort(PG_PORT),
          restPort: container.getMappedPort(REST_PORT),
          ip: container.getIpAddress(networkName),
        } satisfies ClusterNode;
      }),
    );
    const haproxy = await startNamed(
      docker,
      ours(HAPROXY_NAME, entrypoint("haproxy", "/tmp/pgdrill/haproxy.cfg", "haproxy -db -f /tmp/pgdrill/haproxy.cfg"), {
        PGDRILL_CONFIG: haproxyConfig(spec),
      })
        .withExposedPorts(HAPROXY_PORTS.rw, HAPROXY_PORTS.ro, HAPROXY_PORTS.stats)
        .withWaitStrategy(Wait.forLogMessage(STARTING)),
      HAPROXY_NAME,
    );
    options.log(`patroni: ${pgNodes.length} Patroni nodes and HAProxy started in ${Date.now() - t0} ms`);
    if (options.signal?.aborted) throw new Error("interrupted while starting");

    const record: (observation: PatroniObservation) => void = options.record ?? (() => undefined);
    observer = new PatroniObserver({
      apis: Object.fromEntries(pgNodes.map((node) => [node.name, `http://127.0.0.1:${node.restPort}`])),
      stats: { host: "127.0.0.1", port: haproxy.getMappedPort(HAPROXY_PORTS.stats) },
      record,
      log: options.log,
    });
    observer.start();
    const watching = observer;
    const nodeNames = pgNodes.map((node) => node.name);
    await watching.waitUntil(
      () => healthy(watching.picture, nodeNames),
      Math.max(1000, deadline - Date.now()),
      "the Patroni cluster becoming healthy",
      options.signal,
    );
    const startupTookMs = Date.now() - t0;
    const leader = watching.picture.leader!;
    options.log(
      `patroni: cluster healthy in ${startupTookMs} ms (leader ${leader}, ${nodeNames.length - 1} replicas streaming, ` +
        `HAProxy rw → ${leader})`,
    );
    const started = new StartedPatroni({
      docker,
      runId: options.runId,
      network: networkName,
      spec,
      nodes: pgNodes,
      dcs: dcsMembers,
      haproxy,
      observer,
      password: secrets.superuser,
      startupMs: startupTookMs,
    });
    if (spec.backup && repository) await started.startBackups(spec.backup, `docker volume ${repository}`, nodeContainer, options);
    return started;
  } catch (error) {
    await observer?.stop();
    await removeLabelled(docker, { runId: options.runId }).catch(() => undefined);
    throw new HarnessError(`could not start the patroni target: ${errorMessage(error)}`, { cause: error });
  }
}

/**
 * Healthy: a leader holds the key and is primary; every other member is a running replica that
 * streams from it; HAProxy sends rw to the leader alone and ro to the replicas alone (so its checks
 * have run: HAProxy counts a server up before its first check).
 */
export function healthy(picture: Picture, nodes: readonly string[]): true | string {
  const { leader } = picture;
  if (leader === undefined) return "no member's REST API answered /cluster yet";
  if (leader === null) return "no leader yet";
  if (picture.members.get(leader)?.role !== "primary") return `${leader} holds the leader key but is not primary yet`;
  const replicas = nodes.filter((node) => node !== leader);
  for (const replica of replicas) {
    const view = picture.members.get(replica);
    if (view?.role !== "replica" || !["running", "streaming"].includes(view.state ?? "")) {
      return `${replica} is ${view?.state ? `${view.role ?? "?"} and ${view.state}` : "not answering"}`;
    }
  }
  const streaming = new Set(
    (picture.senders.get(leader) ?? []).filter((sender) => sender.state === "streaming").map((sender) => sender.application_name),
  );
  const notStreaming = replicas.filter((replica) => !streaming.has(replica));
  if (notStreaming.length > 0) return `${notStreaming.join(", ")} not streaming from ${leader} yet`;
  if (!picture.haproxy) return "HAProxy's stats socket has not answered yet";
  const rw = upServers(picture.haproxy.rw);
  if (rw.join() !== leader || picture.haproxy.rw[leader] !== "UP")
    return `HAProxy's rw has ${rw.length > 0 ? rw.join(", ") : "no server"} up, not ${leader} alone`;
  const ro = upServers(picture.haproxy.ro);
  if (ro.join() !== [...replicas].sort().join())
    return `HAProxy's ro has ${ro.length > 0 ? ro.join(", ") : "no server"} up, not ${replicas.join(", ")}`;
  return true;
}

function secret(): string {
  return randomBytes(18).toString("base64url");
}
