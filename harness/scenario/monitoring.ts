/**
 * The scenario's `monitoring` section: did the alert fire? Either pgdrill starts Prometheus 2.42,
 * Alertmanager 0.25 and postgres_exporter 0.11 beside a container target (`start`), loaded with the
 * user's rules file or the seed guide's rules as written, or it reads the user's own Prometheus and
 * Alertmanager (`prometheus`, `alertmanager`). Then which alerts must fire, how soon, and which must not.
 *
 * What the schema checks of the section as a whole (start or prometheus, never both;
 * alertmanager only with prometheus) it says three times, as schema.ts does: a refinement that
 * decides, a `.meta()` for JSON Schema, and a type in which the combinations cannot be written.
 * The checks that need the rest of the scenario (the target, the schedule, the rules) are
 * monitoring-checks.ts's.
 *
 * Secrets (bearerToken, password) are the value itself or `${NAME}`, an environment variable read
 * when the drill starts (resolveSecret), as an endpoint target reads DATABASE_URL then: a scenario
 * file can be committed without the secret, and validation does not need it.
 */
import { z } from "zod";
import { InputError } from "../errors.ts";
import { rememberSecrets } from "../secrets.ts";
import { duration } from "./schema-parts.ts";

/** An alert's name as gate metrics carry it (`alerts.<Alert>.firedAfterMs`). */
export const ALERT_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
/** `${NAME}`: the secret is the environment variable NAME's value when the drill starts. */
export const SECRET_REFERENCE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;
/** The secret itself, or a reference; text starting `${` that is not a reference is a typo. */
const SECRET_PATTERN = /^(?:\$\{[A-Za-z_][A-Za-z0-9_]*\}|(?!\$\{)[\s\S]+)$/;
/** An http(s) URL without credentials in it (fetch refuses those). */
const SERVER_URL = /^https?:\/\/[^\s/@?#]+(?:[/?#]\S*)?$/;
/** A server URL, or `${NAME}`: a scenario shared between environments names the variable that holds it. */
const SERVER_URL_OR_REFERENCE = new RegExp(`${SERVER_URL.source}|${SECRET_REFERENCE.source}`);

const alertName = z.string().regex(ALERT_NAME, {
  message: "must be an alert's name: letters, digits, '_' and ':', not starting with a digit",
});

const secret = z.string().regex(SECRET_PATTERN, {
  message: 'must be the secret itself or "${NAME}", an environment variable read when the drill starts ("${" starts a reference)',
});

/** A Prometheus or an Alertmanager to read, with its credentials. */
const server = (what: string, example: string) =>
  z
    .strictObject({
      url: z
        .string()
        .regex(SERVER_URL_OR_REFERENCE, {
          message:
            `must be an http:// or https:// URL without credentials in it, e.g. "${example}" (put them in username and password), ` +
            'or "${NAME}" to read it from the environment',
        })
        .describe(`${what}'s base URL, e.g. "${example}", or "\${NAME}" to read it from the environment when the drill starts.`),
      bearerToken: secret
        .optional()
        .describe('Sent as "Authorization: Bearer …": the token itself, or "${NAME}" to read it from the environment.'),
      username: z.string().min(1).optional().describe("Basic authentication's user (with password)."),
      password: secret.optional().describe('Basic authentication\'s password: itself, or "${NAME}" to read it from the environment.'),
    })
    .superRefine((value, ctx) => {
      if (value.bearerToken !== undefined && (value.username !== undefined || value.password !== undefined)) {
        ctx.addIssue({
          code: "custom",
          path: ["bearerToken"],
          message: "cannot be given with username and password",
          params: { fix: "Keep one way to authenticate: bearerToken, or username and password." },
        });
      }
      if ((value.username === undefined) !== (value.password === undefined)) {
        const missing = value.username === undefined ? "username" : "password";
        ctx.addIssue({
          code: "custom",
          path: [missing],
          message: "is missing: basic authentication needs username and password",
          params: { fix: `Add ${missing}, or remove ${missing === "username" ? "password" : "username"}.` },
        });
      }
    })
    .meta({ not: { required: ["bearerToken", "username"] }, dependentRequired: { username: ["password"], password: ["username"] } });

const start = z
  .strictObject({
    rules: z
      .string()
      .min(1)
      .optional()
      .describe(
        "A Prometheus rules file (as Prometheus 2.42 reads it), relative to the scenario file; default: the seed guide's rules " +
          "(PostgresDown, PostgresReplicationLag, PostgresHighConnections) as written.",
      ),
    scrapeInterval: duration.default("15s").describe("How often Prometheus scrapes the exporters; default: Debian's prometheus.yml's 15s."),
    scrapeTimeout: duration.default("10s").describe("How long a scrape may take, at most scrapeInterval; default: Prometheus's 10s."),
    evaluationInterval: duration
      .default("15s")
      .describe("How often Prometheus evaluates the rules; default: Debian's prometheus.yml's 15s."),
    groupWait: duration.default("30s").describe("How long Alertmanager waits before it sends a new group of alerts; default: its 30s."),
    exporter: z
      .enum(["on-node", "separate"])
      .default("on-node")
      .describe(
        "on-node: postgres_exporter runs in each node's container and dies with it, as a host's systemd unit would (restarted " +
          "when the container is back); separate: each node's exporter runs in a container of its own.",
      ),
  })
  .describe(
    "pgdrill starts Prometheus 2.42, Alertmanager 0.25 and postgres_exporter 0.11 beside the target's containers (container-pair, " +
      "patroni, pg-auto-failover) and removes them after the drill.",
  );

const expectation = z
  .strictObject({
    alert: alertName.describe("The alert's name (an alerting rule's `alert`)."),
    within: duration.describe("How soon after the first fault or hand-over it must fire."),
    labels: z
      .record(
        z.string().regex(LABEL_NAME, { message: "must be a label name: letters, digits and '_', not starting with a digit" }),
        z.string(),
      )
      .optional()
      .describe('Labels the firing alert must carry (a subset of its labels), e.g. { instance: "primary" }.'),
  })
  .describe("An alert that must fire within `within` of the first fault or hand-over.");

const raw = z
  .strictObject({
    start: start.optional(),
    prometheus: server("Your Prometheus", "https://prometheus.example:9090")
      .optional()
      .describe("Read your own Prometheus instead of starting one: its alerts, rules and the series they read."),
    alertmanager: server("Your Alertmanager", "https://alertmanager.example:9093")
      .optional()
      .describe("Your Alertmanager, read beside `prometheus` for what it was sent."),
    poll: duration.default("1s").describe("How often pgdrill reads the alerts during the drill (100ms to 10s)."),
    expect: z.array(expectation).default([]).describe("Alerts that must fire, each within its time of the first fault or hand-over."),
    mustNotFire: z.array(alertName).default([]).describe("Alerts that must not fire during the drill."),
  })
  .superRefine((value, ctx) => {
    if (value.start !== undefined && value.prometheus !== undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["prometheus"],
        message: "cannot be given with start: pgdrill either starts Prometheus beside the target or reads yours",
        params: {
          fix: "Keep start to run Prometheus, Alertmanager and postgres_exporter beside the target, or prometheus to read your own.",
        },
      });
    } else if (value.start === undefined && value.prometheus === undefined) {
      ctx.addIssue({
        code: "custom",
        message: "needs start or prometheus",
        params: { fix: 'Add `start: {}` to run Prometheus beside the target, or `prometheus: { url: "https://…" }` to read your own.' },
      });
    }
    if (value.alertmanager !== undefined && value.prometheus === undefined) {
      ctx.addIssue({
        code: "custom",
        path: ["alertmanager"],
        message: "applies only with prometheus",
        params: { fix: "With start, pgdrill runs its own Alertmanager: remove alertmanager." },
      });
    }
  })
  .meta({ oneOf: [{ required: ["start"] }, { required: ["prometheus"] }], dependentRequired: { alertmanager: ["prometheus"] } });

type Raw = z.output<typeof raw>;
type RawInput = z.input<typeof raw>;
type Common<T> = Omit<T, "start" | "prometheus" | "alertmanager">;

/** The section as pgdrill uses it: started (start) or existing (prometheus, maybe alertmanager), never both. */
export type Monitoring = Common<Raw> &
  (
    | { start: NonNullable<Raw["start"]>; prometheus?: undefined; alertmanager?: undefined }
    | { start?: undefined; prometheus: NonNullable<Raw["prometheus"]>; alertmanager?: Raw["alertmanager"] }
  );
export type MonitoringInput = Common<RawInput> &
  (
    | { start: NonNullable<RawInput["start"]>; prometheus?: undefined; alertmanager?: undefined }
    | { start?: undefined; prometheus: NonNullable<RawInput["prometheus"]>; alertmanager?: RawInput["alertmanager"] }
  );
/** A Prometheus or Alertmanager the scenario names, with its credentials as written. */
export type MonitoringServer = NonNullable<Raw["prometheus"]>;
export type MonitoringStart = NonNullable<Raw["start"]>;

export const monitoring = raw.describe(
  "Did the alerts fire? Start Prometheus and Alertmanager beside a container target (start) or read yours (prometheus), " +
    "then say which alerts must fire and how soon (expect), and which must not (mustNotFire).",
) as unknown as z.ZodType<Monitoring, MonitoringInput>;

// ---- Secrets, when the drill starts ------------------------------------------------------------

/**
 * A value written as itself or as `${NAME}`: the reference read from the environment now, with the
 * variable's name (null for a literal); `field` names it in the error when the variable is not set.
 */
function fromEnvironment(value: string, field: string, what: string, env: NodeJS.ProcessEnv): { value: string; name: string | null } {
  const reference = SECRET_REFERENCE.exec(value);
  if (!reference) return { value, name: null };
  const name = reference[1]!;
  const resolved = env[name];
  if (resolved === undefined || resolved === "") {
    throw new InputError(
      field,
      `names the environment variable ${name}, which is not set`,
      `Export ${name} before the drill, or write ${what} itself.`,
    );
  }
  return { value: resolved, name };
}

/** A secret's value, read now (fromEnvironment); one read from the environment is remembered, so it is masked wherever it shows up. */
export function resolveSecret(value: string, field: string, env: NodeJS.ProcessEnv = process.env): string {
  const resolved = fromEnvironment(value, field, "the value", env);
  if (resolved.name !== null) rememberSecrets({ secret: resolved.value });
  return resolved.value;
}

/** A server's URL, read now (fromEnvironment), one from the environment checked as the schema checks a URL. */
export function resolveUrl(value: string, field: string, env: NodeJS.ProcessEnv = process.env): string {
  const resolved = fromEnvironment(value, field, "the URL", env);
  if (resolved.name !== null && !SERVER_URL.test(resolved.value)) {
    throw new InputError(
      field,
      `${resolved.name} holds "${resolved.value}", not an http:// or https:// URL without credentials`,
      `Set ${resolved.name} to a URL such as "https://prometheus.example:9090".`,
    );
  }
  return resolved.value;
}

/** The Authorization header a server's credentials make (none without), secrets read from the environment now. */
export function authorizationHeader(server: MonitoringServer, field: string, env: NodeJS.ProcessEnv = process.env): Record<string, string> {
  if (server.bearerToken !== undefined) {
    return { authorization: `Bearer ${resolveSecret(server.bearerToken, `${field}.bearerToken`, env)}` };
  }
  if (server.username !== undefined && server.password !== undefined) {
    const password = resolveSecret(server.password, `${field}.password`, env);
    return { authorization: `Basic ${Buffer.from(`${server.username}:${password}`).toString("base64")}` };
  }
  return {};
}
