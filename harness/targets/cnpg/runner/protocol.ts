/**
 * What the drill and its in-cluster probe runner say to each other. The runner (harness/runner/)
 * writes one JSON object per line to stdout in the line protocol of harness/runner/protocol.ts,
 * which the drill reads back from the pod's log stream;
 * the drill asks it to start, stop, read back its writes and tell its clock over HTTP, through the
 * API server's proxy to the runner's pod (never to an instance pod, so nothing of it fails over).
 *
 * Every line carries `seq` (1, 2, …) so a log stream that is followed again after a break (it is
 * replayed from the start) adds nothing twice. Times are the runner's own monotonic clock: ms since
 * it started. The drill maps them onto its clock with the offset its pings estimate (clock-sync.ts).
 */
import type { ProbeSpec } from "../../../scenario/probes.ts";
import type { RUNNER_PROTOCOL } from "../../../runner/protocol.ts";

/** The runner's HTTP control port, in its pod. */
export const RUNNER_CONTROL_PORT = 8080;
/** The environment variable that holds the runner's config (JSON); --config names a file or JSON instead. */
export const RUNNER_CONFIG_ENV = "PGDRILL_RUNNER_CONFIG";

/** What the runner needs: where the database is, the probes, and how long it may live. */
export interface RunnerConfig {
  protocol: typeof RUNNER_PROTOCOL;
  /** The Cluster, for the runner's labels in its lines. */
  cluster: string;
  /** The instance pods (the role probe asks each) and how to reach each directly. */
  nodes: Array<{ name: string; host: string; port: number }>;
  /** The operator's own Services, as applications dial them: <cluster>-rw.<ns>.svc. */
  rw: { host: string; port: number };
  ro: { host: string; port: number };
  /** The app user (from the Cluster's <cluster>-app secret, through the environment). */
  user: string;
  database: string;
  /** The variable that holds the password (the pod gets it from the secret; it is never in the config). */
  passwordEnv: string;
  probes: ProbeSpec[];
  /** A run asked for longer than this is refused: a bound on what one runner does. */
  maxRunMs: number;
  /** The runner exits this long after it started, whatever happens: nothing outlives a crashed drill. */
  lifetimeMs: number;
  controlPort: number;
}

/** The answer to GET /clock: the runner's t when it handled the request. */
export interface ClockReply {
  t: number;
}
