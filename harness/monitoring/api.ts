/**
 * Clients of the two HTTP APIs a drill reads its alerts from: Prometheus 2.42's `/api/v1` and
 * Alertmanager 0.25's `/api/v2`, each answer checked where it enters (http.ts) and handed on in
 * pgdrill's terms: rules with their alerts, series counts, metric names, intervals in ms.
 */
import { z } from "zod";
import { displayUrl, HttpApi, MonitoringApiError, parseConfigYaml, record, type ApiEndpoint, type ApiOptions } from "./http.ts";
import { parsePrometheusDuration } from "../scenario/alert-rules.ts";

export { displayUrl, MonitoringApiError, type ApiEndpoint, type ApiOptions } from "./http.ts";

/** Alertmanager's own default when the route does not set group_wait. */
const DEFAULT_GROUP_WAIT_MS = 30_000;
/** Go's zero time (0001-01-01T00:00:00Z): Prometheus's lastEvaluation and lastScrape before the first one. */
const NEVER = "0001-01-01T";

// ---- Prometheus ------------------------------------------------------------------------------

const labels = z.record(z.string(), z.string());
/** Prometheus writes an empty label set as {}, an absent one (older versions) as null. */
const labelSet = labels.nullish().transform((value) => value ?? {});
/** A time Prometheus writes as RFC 3339, Go's zero time meaning "not yet". */
const goTime = z.string().transform((value) => (value.startsWith(NEVER) ? null : value));

const alertSchema = z.object({
  labels: labelSet,
  state: z.enum(["pending", "firing", "inactive"]),
  activeAt: z.string().optional(),
  value: z.string().optional(),
});

const alertingRuleSchema = z.object({
  type: z.literal("alerting"),
  name: z.string(),
  query: z.string(),
  duration: z.number(),
  labels: labelSet,
  state: z.enum(["inactive", "pending", "firing"]),
  health: z.string(),
  lastError: z.string().optional(),
  lastEvaluation: goTime.optional(),
  alerts: z
    .array(alertSchema)
    .nullish()
    .transform((value) => value ?? []),
});
const recordingRuleSchema = z.object({ type: z.literal("recording") });

function success<T extends z.ZodType>(data: T) {
  return z.object({ status: z.literal("success"), data });
}

const rulesAnswer = success(
  z.object({
    groups: z.array(
      z.object({
        name: z.string(),
        file: z.string(),
        interval: z.number().optional(),
        rules: z.array(z.discriminatedUnion("type", [alertingRuleSchema, recordingRuleSchema])),
      }),
    ),
  }),
);
const alertsAnswer = success(z.object({ alerts: z.array(alertSchema) }));
const queryAnswer = success(
  z.discriminatedUnion("resultType", [
    z.object({ resultType: z.literal("vector"), result: z.array(z.object({ metric: labelSet })) }),
    z.object({ resultType: z.literal("matrix"), result: z.array(z.object({ metric: labelSet })) }),
    z.object({ resultType: z.literal("scalar"), result: z.unknown() }),
    z.object({ resultType: z.literal("string"), result: z.unknown() }),
  ]),
);
const namesAnswer = success(z.array(z.string()));
const configAnswer = success(z.object({ yaml: z.string() }));
const targetsAnswer = success(
  z.object({
    activeTargets: z.array(
      z.object({
        scrapePool: z.string(),
        scrapeUrl: z.string(),
        labels: labelSet,
        health: z.string(),
        lastError: z.string().optional(),
        lastScrape: goTime,
      }),
    ),
  }),
);

/** One alert of a rule (one label set), as Prometheus has it now. */
export interface PrometheusAlert {
  labels: Record<string, string>;
  state: "pending" | "firing" | "inactive";
  /** When the expression first matched (Prometheus's clock, RFC 3339). */
  activeAt: string | null;
  value: string | null;
}

/** One alerting rule as Prometheus loaded it. */
export interface PrometheusAlertingRule {
  group: string;
  file: string;
  /** The group's evaluation interval in ms, when Prometheus says it. */
  groupIntervalMs: number | null;
  name: string;
  query: string;
  /** Its `for`, in seconds, as Prometheus says it. */
  duration: number;
  labels: Record<string, string>;
  state: "inactive" | "pending" | "firing";
  /** "ok", "err" or "unknown" (not evaluated yet). */
  health: string;
  lastError: string | null;
  /** When it was last evaluated (RFC 3339); null before the first evaluation. */
  lastEvaluation: string | null;
  /** Its active alerts (pending or firing). */
  alerts: PrometheusAlert[];
}

export interface ScrapeTarget {
  pool: string;
  url: string;
  labels: Record<string, string>;
  /** "up", "down" or "unknown" (not scraped yet). */
  health: string;
  lastError: string | null;
  /** When it was last scraped; null before the first scrape. */
  lastScrape: string | null;
}

/** Prometheus's global intervals in ms; null where its configuration does not say. */
export interface PrometheusIntervals {
  scrapeIntervalMs: number | null;
  scrapeTimeoutMs: number | null;
  evaluationIntervalMs: number | null;
}

const alertOf = (alert: z.output<typeof alertSchema>): PrometheusAlert => ({
  labels: alert.labels,
  state: alert.state,
  activeAt: alert.activeAt ?? null,
  value: alert.value ?? null,
});

export class PrometheusApi {
  private readonly http: HttpApi;

  constructor(endpoint: ApiEndpoint, options: ApiOptions = {}) {
    this.http = new HttpApi("Prometheus", endpoint, options);
  }

  /** The base URL, without credentials. */
  get url(): string {
    return this.http.url;
  }

  /** GET /-/ready: true once Prometheus serves queries, or why not (starting up, no answer, refused credentials). */
  ready(): Promise<true | string> {
    return this.http.ready();
  }

  /** Every alerting rule with its active alerts: one request (`/api/v1/rules?type=alert`). */
  async alertingRules(): Promise<PrometheusAlertingRule[]> {
    const answer = await this.http.get("/api/v1/rules", rulesAnswer, { type: "alert" });
    // Older versions ignore `type`: the recording rules are dropped here too.
    return answer.data.groups.flatMap((group) =>
      group.rules.flatMap((rule) =>
        rule.type !== "alerting"
          ? []
          : [
              {
                group: group.name,
                file: group.file,
                groupIntervalMs: group.interval === undefined ? null : Math.round(group.interval * 1000),
                name: rule.name,
                query: rule.query,
                duration: rule.duration,
                labels: rule.labels,
                state: rule.state,
                health: rule.health,
                lastError: rule.lastError || null,
                lastEvaluation: rule.lastEvaluation ?? null,
                alerts: rule.alerts.map(alertOf),
              },
            ],
      ),
    );
  }

  /** Every active alert (`/api/v1/alerts`). */
  async alerts(): Promise<PrometheusAlert[]> {
    return (await this.http.get("/api/v1/alerts", alertsAnswer)).data.alerts.map(alertOf);
  }

  /** How many series `expr` returns now (an instant query); a scalar or string expression is an error. */
  async seriesCount(expr: string): Promise<number> {
    const { data } = await this.http.get("/api/v1/query", queryAnswer, { query: expr });
    if (data.resultType === "vector" || data.resultType === "matrix") return data.result.length;
    throw new MonitoringApiError(
      `${this.http.where("/api/v1/query")}: ${JSON.stringify(expr)} is a ${data.resultType}, not a vector of series`,
      "/api/v1/query",
      200,
    );
  }

  /** Every metric name Prometheus holds series of (`/api/v1/label/__name__/values`). */
  async metricNames(): Promise<string[]> {
    return (await this.http.get("/api/v1/label/__name__/values", namesAnswer)).data;
  }

  /** The scrape targets Prometheus is scraping (`/api/v1/targets?state=active`). */
  async scrapeTargets(): Promise<ScrapeTarget[]> {
    const answer = await this.http.get("/api/v1/targets", targetsAnswer, { state: "active" });
    return answer.data.activeTargets.map((target) => ({
      pool: target.scrapePool,
      url: displayUrl(target.scrapeUrl),
      labels: target.labels,
      health: target.health,
      lastError: target.lastError || null,
      lastScrape: target.lastScrape,
    }));
  }

  /** The global scrape_interval, scrape_timeout and evaluation_interval from its loaded configuration (`/api/v1/status/config`). */
  async globalConfig(): Promise<PrometheusIntervals> {
    const path = "/api/v1/status/config";
    const { data } = await this.http.get(path, configAnswer);
    const global = record(parseConfigYaml(data.yaml, this.http.where(path), path)["global"]);
    const interval = (key: string): number | null => {
      const value = global[key];
      if (value === undefined || value === null) return null;
      const ms = typeof value === "string" ? parsePrometheusDuration(value) : null;
      if (ms === null) {
        throw new MonitoringApiError(
          `${this.http.where(path)}: data.yaml global.${key} is ${JSON.stringify(value)}, not a Prometheus duration`,
          path,
          200,
        );
      }
      return ms;
    };
    return {
      scrapeIntervalMs: interval("scrape_interval"),
      scrapeTimeoutMs: interval("scrape_timeout"),
      evaluationIntervalMs: interval("evaluation_interval"),
    };
  }
}

// ---- Alertmanager ----------------------------------------------------------------------------

const amAlertsAnswer = z.array(
  z.object({
    labels,
    status: z.object({ state: z.enum(["active", "suppressed", "unprocessed"]) }),
    startsAt: z.string(),
    endsAt: z.string(),
  }),
);
const amStatusAnswer = z.object({ config: z.object({ original: z.string() }) });

/** One alert as Alertmanager holds it: Prometheus sent it firing; `state` says whether it notifies. */
export interface AlertmanagerAlert {
  labels: Record<string, string>;
  state: "active" | "suppressed" | "unprocessed";
  startsAt: string;
  endsAt: string;
}

export class AlertmanagerApi {
  private readonly http: HttpApi;

  constructor(endpoint: ApiEndpoint, options: ApiOptions = {}) {
    this.http = new HttpApi("Alertmanager", endpoint, options);
  }

  get url(): string {
    return this.http.url;
  }

  /** GET /-/ready: true once Alertmanager serves, or why not. */
  ready(): Promise<true | string> {
    return this.http.ready();
  }

  /** The alerts it holds (`/api/v2/alerts`): active, silenced or inhibited, and not yet processed; resolved ones are left out. */
  async alerts(): Promise<AlertmanagerAlert[]> {
    const answer = await this.http.get("/api/v2/alerts", amAlertsAnswer);
    return answer.map((alert) => ({ labels: alert.labels, state: alert.status.state, startsAt: alert.startsAt, endsAt: alert.endsAt }));
  }

  /** The root route's group_wait in ms, from its loaded configuration (`/api/v2/status`); 30 s when the route does not set it. */
  async groupWaitMs(): Promise<number> {
    const path = "/api/v2/status";
    const answer = await this.http.get(path, amStatusAnswer);
    const groupWait = record(parseConfigYaml(answer.config.original, this.http.where(path), path)["route"])["group_wait"];
    if (groupWait === undefined || groupWait === null) return DEFAULT_GROUP_WAIT_MS;
    const ms = typeof groupWait === "string" ? parsePrometheusDuration(groupWait) : null;
    if (ms === null) {
      throw new MonitoringApiError(
        `${this.http.where(path)}: config.original route.group_wait is ${JSON.stringify(groupWait)}, not a duration`,
        path,
        200,
      );
    }
    return ms;
  }
}
