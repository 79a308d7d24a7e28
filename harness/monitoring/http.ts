/**
 * The transport under the monitoring clients (api.ts): one authenticated GET of a Prometheus or
 * Alertmanager API, with its own timeout and a bound on the answer's size (an existing Prometheus may
 * be large, or not Prometheus at all), and the answer checked with zod where it enters: a shape
 * pgdrill did not expect is an error naming the API path and the field, never a silent `undefined`
 * further on. URLs in errors carry no credentials.
 */
import YAML from "yaml";
import { z } from "zod";
import { errorMessage } from "../errors.ts";
import { redactSecrets, rememberSecrets } from "../secrets.ts";

/** Where an API is and how to authenticate to it, as the scenario's `monitoring.prometheus` (or `.alertmanager`) says. */
export interface ApiEndpoint {
  url: string;
  /** `Authorization: Bearer <token>`. */
  bearerToken?: string | undefined;
  /** Basic auth; a URL's own `user:password@` is used the same way (fetch refuses a URL that carries credentials). */
  username?: string | undefined;
  password?: string | undefined;
  /** Extra headers sent with every request (a tenant id, a proxy's key). */
  headers?: Readonly<Record<string, string>> | undefined;
}

export interface ApiOptions {
  /** Each request's limit, the answer's body included. */
  timeoutMs?: number;
  /** The largest answer read; a longer one is an error, not a process that runs out of memory. */
  maxBytes?: number;
  /** Where the endpoint came from in the scenario, for errors that say what to fix: `monitoring.prometheus`. */
  field?: string;
}

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;

/** A request that failed, or an answer that was not what the API should say; `path` is the API path asked. */
export class MonitoringApiError extends Error {
  override readonly name = "MonitoringApiError";
  readonly path: string;
  /** The HTTP status, or null when there was no answer. */
  readonly status: number | null;
  constructor(message: string, path: string, status: number | null, options?: { cause?: unknown }) {
    super(redactSecrets(message), options);
    this.path = path;
    this.status = status;
  }
}

/** The URL without its credentials, query or fragment: what logs, errors and the History show. */
export function displayUrl(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.username = "";
    parsed.password = "";
    parsed.search = "";
    parsed.hash = "";
    return parsed.toString().replace(/\/$/, "");
  } catch {
    return redactSecrets(url);
  }
}

/** One API's transport: the base URL, the headers, the limits; `get` checks the answer against a schema. */
export class HttpApi {
  /** The base URL as it may be shown (no credentials). */
  readonly url: string;
  private readonly base: URL;
  private readonly headers: Record<string, string>;
  private readonly timeoutMs: number;
  private readonly maxBytes: number;
  private readonly field: string;
  private readonly name: "Prometheus" | "Alertmanager";

  constructor(name: "Prometheus" | "Alertmanager", endpoint: ApiEndpoint, options: ApiOptions) {
    this.name = name;
    this.field = options.field ?? `monitoring.${name.toLowerCase()}`;
    let base: URL;
    try {
      base = new URL(endpoint.url);
    } catch {
      throw new MonitoringApiError(`${this.field}.url: ${JSON.stringify(redactSecrets(endpoint.url))} is not a URL`, "", null);
    }
    if (base.protocol !== "http:" && base.protocol !== "https:") {
      throw new MonitoringApiError(`${this.field}.url: ${displayUrl(endpoint.url)} must be http:// or https://`, "", null);
    }
    const username = endpoint.username ?? decoded(base.username);
    const password = endpoint.password ?? decoded(base.password);
    rememberSecrets({ password, bearerToken: endpoint.bearerToken });
    base.username = "";
    base.password = "";
    base.search = "";
    base.hash = "";
    // A Prometheus behind a path prefix (https://host/prometheus): its API is below that path.
    if (!base.pathname.endsWith("/")) base.pathname += "/";
    this.base = base;
    this.url = displayUrl(base.toString());
    this.headers = { accept: "application/json" };
    for (const [header, value] of Object.entries(endpoint.headers ?? {})) {
      // An Authorization header's credentials are masked with and without their scheme ("Bearer …").
      if (/auth|token|key|secret|cookie/i.test(header)) rememberSecrets({ secret: [value, value.replace(/^\w+\s+/, "")] });
      this.headers[header.toLowerCase()] = value;
    }
    if (endpoint.bearerToken) this.headers["authorization"] = `Bearer ${endpoint.bearerToken}`;
    else if (username !== "" || password !== "") {
      this.headers["authorization"] = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
    }
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  }

  /** GET `path` and the answer's status and body text; throws for no answer, too slow or too long. */
  async request(path: string, query: Record<string, string> = {}): Promise<{ status: number; body: string }> {
    const url = new URL(path.replace(/^\//, ""), this.base);
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
    const signal = AbortSignal.timeout(this.timeoutMs);
    for (let attempt = 1; ; attempt += 1) {
      try {
        const response = await fetch(url, { headers: this.headers, signal });
        return { status: response.status, body: await this.bodyOf(response, path) };
      } catch (error) {
        if (error instanceof MonitoringApiError) throw error;
        // A kept-alive connection the server closed in the meantime (it restarted): once more, on a new one.
        if (attempt === 1 && codeOf(error) === "UND_ERR_SOCKET" && !signal.aborted) continue;
        throw new MonitoringApiError(`${this.where(path)}: ${this.why(error)}`, path, null, { cause: error });
      }
    }
  }

  /** GET a JSON answer and check it against `schema`; a non-2xx answer is an error with what the API said. */
  async get<T>(path: string, schema: z.ZodType<T>, query: Record<string, string> = {}): Promise<T> {
    const { status, body } = await this.request(path, query);
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      if (status < 200 || status > 299) throw this.statusError(path, status, body);
      throw new MonitoringApiError(`${this.where(path)}: answered ${status} with no JSON (${snippet(body)})`, path, status);
    }
    if (status < 200 || status > 299) throw this.statusError(path, status, apiError(json) ?? body);
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const problems = parsed.error.issues.slice(0, 3).map((issue) => `${fieldPath(issue.path)}: ${issue.message}`);
      throw new MonitoringApiError(`${this.where(path)}: unexpected answer: ${problems.join("; ")}`, path, status);
    }
    return parsed.data;
  }

  /** GET /-/ready: true once the server serves, or why not (starting up, no answer, refused credentials). */
  async ready(): Promise<true | string> {
    try {
      const { status, body } = await this.request("/-/ready");
      if (status === 200) return true;
      return `${this.where("/-/ready")}: answered ${status} (${snippet(body)})`;
    } catch (error) {
      return errorMessage(error);
    }
  }

  /** What a request to `path` is called in messages: "Prometheus at http://host:9090: GET /api/v1/rules". */
  where(path: string): string {
    return `${this.name} at ${this.url}: GET ${path}`;
  }

  private statusError(path: string, status: number, said: string): MonitoringApiError {
    const fix =
      status === 401 || status === 403
        ? `; check ${this.field}.bearerToken or ${this.field}.username and password`
        : status === 404
          ? `; is ${this.url} ${this.name}'s own address (with its path prefix, if any)?`
          : "";
    return new MonitoringApiError(`${this.where(path)}: answered ${status} (${snippet(said)})${fix}`, path, status);
  }

  /** The body as text, read no further than maxBytes. */
  private async bodyOf(response: Response, path: string): Promise<string> {
    const declared = Number(response.headers.get("content-length") ?? NaN);
    if (declared > this.maxBytes) {
      await response.body?.cancel();
      throw new MonitoringApiError(`${this.where(path)}: the answer is ${declared} bytes, more than the ${this.maxBytes} read`, path, null);
    }
    if (!response.body) return "";
    const reader = response.body.getReader();
    const chunks: Uint8Array[] = [];
    let size = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > this.maxBytes) {
        await reader.cancel();
        throw new MonitoringApiError(`${this.where(path)}: the answer is longer than the ${this.maxBytes} bytes read`, path, null);
      }
      chunks.push(value);
    }
    return Buffer.concat(chunks).toString("utf8");
  }

  private why(error: unknown): string {
    if (error instanceof DOMException && error.name === "TimeoutError") return `no answer within ${this.timeoutMs} ms`;
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : null;
    const code = codeOf(error);
    if (code) return `${code} (${cause!.message})`;
    return cause ? cause.message : errorMessage(error);
  }
}

/** undici says "fetch failed" and keeps the reason (ECONNREFUSED, ENOTFOUND, a TLS problem) in its cause's code. */
function codeOf(error: unknown): string | null {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : null;
  return cause && "code" in cause && typeof cause.code === "string" ? cause.code : null;
}

/** A URL's percent-encoded user or password as typed; left as it is when it is not valid percent-encoding. */
function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function snippet(text: string): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > 200 ? `${line.slice(0, 200)}...` : line || "an empty body";
}

/** Prometheus's own error answer: `{ status: "error", errorType, error }`. */
function apiError(json: unknown): string | null {
  const parsed = z.object({ errorType: z.string().optional(), error: z.string() }).safeParse(json);
  return parsed.success ? `${parsed.data.errorType ? `${parsed.data.errorType}: ` : ""}${parsed.data.error}` : null;
}

/** A zod issue's path as a person reads it: `data.groups[0].rules[1].duration`. */
function fieldPath(path: readonly PropertyKey[]): string {
  if (path.length === 0) return "the answer";
  return path.map((key, i) => (typeof key === "number" ? `[${key}]` : `${i === 0 ? "" : "."}${String(key)}`)).join("");
}

/** A configuration the API hands over as YAML text (Prometheus's status/config, Alertmanager's status), as an object. */
export function parseConfigYaml(text: string, where: string, path: string): Record<string, unknown> {
  try {
    return record(YAML.parse(text));
  } catch (error) {
    throw new MonitoringApiError(`${where}: its configuration is not YAML (${errorMessage(error)})`, path, 200);
  }
}

/** An object's fields, or none when it is not an object. */
export function record(value: unknown): Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}
