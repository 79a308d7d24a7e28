/**
 * A libpq connection string, read as libpq reads it (PostgreSQL docs, libpq-connect, 34.1.1 and
 * 34.1.2): a URI (`postgresql://` or `postgres://`, user:password@, a host list `h1:p1,h2:p2`, `[::1]`,
 * percent-encoding, parameters after `?`) or keyword/value pairs (`host=a,b port=5432 dbname='my db'`,
 * single quotes, backslash escapes, spaces around `=`). No npm library parses libpq's multi-host
 * strings (pg-connection-string reads one host through WHATWG URL, and refuses `h1:p1,h2:p2`), so this
 * follows libpq's fe-connect.c rules and messages, and a unit test compares it with the real libpq.
 *
 * It only parses: nothing here dials. A problem is an InputError naming the part that is wrong
 * (`from`, e.g. DATABASE_URL, and the keyword); the password is never quoted in one.
 */
import { InputError } from "../errors.ts";
import { TARGET_SESSION_ATTRS, type HostPort, type TargetSessionAttrs } from "./endpoint.ts";

/** libpq's sslmode values, and node-postgres's "no-verify" (TLS, no certificate check: libpq's require), which URLs in use carry. */
export const SSL_MODES = ["disable", "allow", "prefer", "require", "verify-ca", "verify-full", "no-verify"] as const;
export type SslMode = (typeof SSL_MODES)[number];
const LOAD_BALANCE = ["disable", "random"] as const;

/** What pgdrill applies of a connection string: every host in order, and the options a node-postgres client takes. */
export interface ConnInfo {
  hosts: HostPort[];
  user: string;
  password: string;
  database: string;
  sslmode?: SslMode;
  /** The TLS files libpq reads, as paths (sslrootcert may be "system"). */
  sslrootcert?: string;
  sslcert?: string;
  sslkey?: string;
  sslpassword?: string;
  /** libpq's connect_timeout, per host; absent (or 0): no limit of its own. */
  connectTimeoutMs?: number;
  targetSessionAttrs: TargetSessionAttrs;
  loadBalanceHosts: (typeof LOAD_BALANCE)[number];
  applicationName?: string;
  /** The server options (`-c search_path=app`). */
  options?: string;
  /** Keywords libpq knows that change nothing pgdrill measures here (keepalives, client_encoding, …): accepted, not applied. */
  ignored: string[];
}

/** Keywords pgdrill applies, with the environment variable libpq falls back to. */
const APPLIED: Record<string, string | null> = {
  host: "PGHOST",
  hostaddr: "PGHOSTADDR",
  port: "PGPORT",
  dbname: "PGDATABASE",
  user: "PGUSER",
  password: "PGPASSWORD",
  connect_timeout: "PGCONNECT_TIMEOUT",
  target_session_attrs: "PGTARGETSESSIONATTRS",
  load_balance_hosts: "PGLOADBALANCEHOSTS",
  application_name: "PGAPPNAME",
  options: "PGOPTIONS",
  sslmode: "PGSSLMODE",
  sslrootcert: "PGSSLROOTCERT",
  sslcert: "PGSSLCERT",
  sslkey: "PGSSLKEY",
  sslpassword: null,
};
/** libpq keywords that do not change which server answers or what an operation sees: accepted and listed as ignored. */
const IGNORED = new Set([
  "fallback_application_name",
  "client_encoding",
  "keepalives",
  "keepalives_idle",
  "keepalives_interval",
  "keepalives_count",
  "tcp_user_timeout",
  "sslcompression",
  "sslsni",
  "sslcrl",
  "sslcrldir",
  "sslcertmode",
  "ssl_min_protocol_version",
  "ssl_max_protocol_version",
  "gssencmode",
  "channel_binding",
  "krbsrvname",
  "gsslib",
  "gssdelegation",
  "requirepeer",
  "min_protocol_version",
  "max_protocol_version",
]);
/** libpq keywords node-postgres cannot honour and that would change the connection: refused rather than dropped. */
const UNSUPPORTED = new Set(["service", "passfile", "replication", "require_auth", "sslnegotiation", "sslkeylogfile"]);

/** Parses `text` (read from `from`, e.g. "DATABASE_URL"); absent parts come from the environment, then libpq's defaults. */
export function parseConnInfo(text: string, from: string, env: NodeJS.ProcessEnv = process.env): ConnInfo {
  const trimmed = text.trim();
  const uri = /^postgres(ql)?:\/\//.exec(trimmed);
  const scheme = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//.exec(trimmed);
  if (!uri && scheme) {
    throw new InputError(
      from,
      `is not a PostgreSQL connection URL: it starts with ${scheme[1]}://`,
      "Use postgresql://user:password@host:5432/db (several hosts: host1:5432,host2:5432), or keyword=value pairs.",
    );
  }
  const pairs = uri ? parseUri(trimmed.slice(uri[0].length), from) : parseKeywordValue(trimmed, from);
  const values = new Map<string, string>();
  const ignored: string[] = [];
  for (const [keyword, value] of pairs) {
    if (UNSUPPORTED.has(keyword))
      throw new InputError(from, `${keyword}: libpq knows it, but pgdrill's node-postgres client cannot honour it`, `Remove ${keyword}.`);
    if (IGNORED.has(keyword)) {
      if (!ignored.includes(keyword)) ignored.push(keyword);
      continue;
    }
    if (!(keyword in APPLIED)) {
      const where = uri ? "URI query parameter" : "connection option";
      throw new InputError(from, `invalid ${where} "${keyword}"`, `Use the keywords libpq documents (host, port, dbname, user, …).`);
    }
    values.set(keyword, value); // a later setting wins, as in libpq
  }
  const get = (keyword: string): string | undefined => {
    const value = values.get(keyword);
    if (value !== undefined && value !== "") return value;
    const variable = APPLIED[keyword];
    return variable ? env[variable] || undefined : undefined;
  };
  const user = get("user") ?? "postgres";
  const info: ConnInfo = {
    hosts: hostList(get("host"), get("hostaddr"), get("port"), from),
    user,
    password: get("password") ?? "",
    database: get("dbname") ?? user,
    targetSessionAttrs: oneOf(get("target_session_attrs") ?? "any", "target_session_attrs", TARGET_SESSION_ATTRS, from),
    loadBalanceHosts: oneOf(get("load_balance_hosts") ?? "disable", "load_balance_hosts", LOAD_BALANCE, from),
    ignored,
  };
  const sslmode = get("sslmode");
  if (sslmode !== undefined) info.sslmode = oneOf(sslmode, "sslmode", SSL_MODES, from);
  for (const key of ["sslrootcert", "sslcert", "sslkey", "sslpassword"] as const) {
    const value = get(key);
    if (value !== undefined) info[key] = value;
  }
  const timeout = get("connect_timeout");
  if (timeout !== undefined) {
    if (!/^\s*-?\d+\s*$/.test(timeout))
      throw new InputError(from, `connect_timeout=${timeout}: not a whole number of seconds`, "Use e.g. connect_timeout=5.");
    // libpq: zero or less waits forever, and 1 s is raised to 2 s.
    const seconds = Number(timeout);
    if (seconds > 0) info.connectTimeoutMs = Math.max(2, seconds) * 1000;
  }
  const applicationName = get("application_name");
  if (applicationName !== undefined) info.applicationName = applicationName;
  const options = get("options");
  if (options !== undefined) info.options = options;
  return info;
}

/** libpq's pairing: one port for every host, or one per host; an empty entry is the default (PGPORT, else 5432). */
function hostList(host: string | undefined, hostaddr: string | undefined, port: string | undefined, from: string): HostPort[] {
  const names = host === undefined ? [] : host.split(",");
  const addresses = hostaddr === undefined ? [] : hostaddr.split(",");
  if (names.length > 0 && addresses.length > 0 && names.length !== addresses.length) {
    throw new InputError(
      from,
      `the hostaddr list has ${addresses.length} entries for ${names.length} hosts`,
      "Give one hostaddr per host, in the same order.",
    );
  }
  const count = Math.max(names.length, addresses.length);
  if (count === 0) {
    throw new InputError(
      from,
      "names no host (libpq would use its local Unix socket)",
      "Give a host (postgresql://user:password@host:5432/db, or host=…), or export PGHOST.",
    );
  }
  const ports = port === undefined ? [""] : port.split(",");
  if (ports.length !== 1 && ports.length !== count) {
    throw new InputError(
      from,
      `the port list has ${ports.length} entries for ${count} host${count === 1 ? "" : "s"}`,
      "Give one port for every host, or one port per host in the same order.",
    );
  }
  return Array.from({ length: count }, (_, i) => {
    // hostaddr is what libpq dials when given; the name is then only for TLS and messages.
    const dial = addresses[i] || names[i] || "";
    if (dial === "") {
      throw new InputError(
        from,
        `host ${i + 1} of ${count} is empty (libpq would use its local Unix socket)`,
        "Name every host in the list.",
      );
    }
    const text = (ports.length === 1 ? ports[0] : ports[i]) ?? "";
    return { host: dial, port: portNumber(text.trim(), i, from) };
  });
}

function portNumber(text: string, index: number, from: string): number {
  if (text === "") return 5432;
  const digits = /^\d+$/.test(text);
  const port = digits ? Number(text) : NaN;
  // Not quoted unless digits: in postgresql://user:secret/db, libpq reads "secret" as a port.
  if (!(port >= 1 && port <= 65535))
    throw new InputError(
      from,
      `the port of host ${index + 1}${digits ? ` (${text})` : ""} is not a number from 1 to 65535`,
      "Fix the port.",
    );
  return port;
}

function oneOf<T extends string>(value: string, keyword: string, allowed: readonly T[], from: string): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new InputError(from, `${keyword}=${value}: must be one of ${allowed.join(", ")}`, `Fix ${keyword} (libpq refuses it too).`);
}

/** Keyword/value pairs, as libpq's conninfo_parse reads them. */
export function parseKeywordValue(text: string, from: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  let i = 0;
  const space = (c: string | undefined) => c !== undefined && /\s/.test(c);
  while (i < text.length) {
    while (space(text[i])) i += 1;
    if (i >= text.length) break;
    let keyword = "";
    while (i < text.length && !space(text[i]) && text[i] !== "=") keyword += text[i++];
    while (space(text[i])) i += 1;
    // A word with no "=" is never quoted: it may be a password that held a space.
    if (text[i] !== "=" || keyword === "") {
      throw new InputError(
        from,
        keyword === "" ? `a value with no keyword at position ${i + 1}` : `missing "=" after word ${pairs.length + 1}`,
        "Write keyword=value pairs (host=db port=5432 dbname=app; quote a value with spaces: password='a b'), or a postgresql:// URI.",
      );
    }
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(keyword))
      throw new InputError(from, `word ${pairs.length + 1} is not a keyword`, "Use the keywords libpq documents (host, port, …).");
    i += 1;
    while (space(text[i])) i += 1;
    let value = "";
    if (text[i] === "'") {
      i += 1;
      let closed = false;
      while (i < text.length) {
        const c = text[i++]!;
        if (c === "\\" && i < text.length) value += text[i++];
        else if (c === "'") {
          closed = true;
          break;
        } else value += c;
      }
      if (!closed)
        throw new InputError(from, `${keyword}: unterminated quoted string`, "Close the value's single quote (write \\' for a quote).");
    } else {
      while (i < text.length && !space(text[i])) {
        const c = text[i++]!;
        if (c === "\\" && i < text.length) value += text[i++];
        else value += c;
      }
    }
    pairs.push([keyword, value]);
  }
  return pairs;
}

/**
 * The rest of a URI after `postgresql://`, as libpq's conninfo_uri_parse_options reads it:
 * `[user[:password]@][host][:port][,...][/dbname][?param=value&...]`.
 */
export function parseUri(rest: string, from: string): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  let i = 0;
  // userinfo: up to the first "@" before any "/" (libpq's rule: an "@" in a password must be written %40).
  const slash = rest.indexOf("/");
  const at = rest.slice(0, slash < 0 ? rest.length : slash).indexOf("@");
  if (at >= 0) {
    const userinfo = rest.slice(0, at);
    const colon = userinfo.indexOf(":");
    const user = colon < 0 ? userinfo : userinfo.slice(0, colon);
    if (user !== "") pairs.push(["user", decode(user, "the user name", from)]);
    if (colon >= 0) pairs.push(["password", decode(userinfo.slice(colon + 1), "the password", from)]);
    i = at + 1;
  }
  const hosts: string[] = [];
  const ports: string[] = [];
  for (;;) {
    let host = "";
    if (rest[i] === "[") {
      const close = rest.indexOf("]", i);
      if (close < 0) throw new InputError(from, 'missing "]" in an IPv6 host address', "Write an IPv6 host as [::1].");
      host = rest.slice(i + 1, close);
      if (host === "") throw new InputError(from, "an IPv6 host address is empty", "Write an IPv6 host as [::1].");
      i = close + 1;
    } else {
      while (i < rest.length && !":/?,".includes(rest[i]!)) host += rest[i++];
    }
    let port = "";
    if (rest[i] === ":") {
      i += 1;
      while (i < rest.length && !"/?,".includes(rest[i]!)) port += rest[i++];
    } else if (i < rest.length && !"/?,".includes(rest[i]!)) {
      throw new InputError(from, `unexpected "${rest[i]}" after host ${hosts.length + 1}`, 'Expected ":port", ",", "/" or "?".');
    }
    hosts.push(decode(host, `host ${hosts.length + 1}`, from));
    ports.push(decode(port, `the port of host ${ports.length + 1}`, from));
    if (rest[i] !== ",") break;
    i += 1;
  }
  // libpq sets host/port only when the URI names them, so the query and the environment can fill them.
  if (hosts.some((host) => host !== "")) pairs.push(["host", hosts.join(",")]);
  if (ports.some((port) => port !== "")) pairs.push(["port", ports.join(",")]);
  if (rest[i] === "/") {
    i += 1;
    const q = rest.indexOf("?", i);
    const dbname = q < 0 ? rest.slice(i) : rest.slice(i, q);
    if (dbname !== "") pairs.push(["dbname", decode(dbname, "the database name", from)]);
    i = q < 0 ? rest.length : q;
  }
  if (rest[i] === "?") {
    for (const param of rest.slice(i + 1).split("&")) {
      if (param === "") continue;
      const eq = param.indexOf("=");
      if (eq < 0 || param.indexOf("=", eq + 1) >= 0) {
        const name = decode(eq < 0 ? param : param.slice(0, eq), "a query parameter", from);
        throw new InputError(
          from,
          `query parameter "${name}": ${eq < 0 ? 'no "=" between key and value' : 'a second "=" in its value'}`,
          "Write ?key=value&key=value, percent-encoding '=' in values as %3D.",
        );
      }
      const keyword = decode(param.slice(0, eq), "a query parameter", from);
      const value = decode(param.slice(eq + 1), `the value of ${keyword}`, from);
      // libpq's one translation, for JDBC-style URIs: ssl=true means sslmode=require.
      if (keyword === "ssl") {
        if (value !== "true") throw new InputError(from, `ssl=${value}: only ssl=true is understood`, "Use sslmode=… instead.");
        pairs.push(["sslmode", "require"]);
      } else pairs.push([keyword, value]);
    }
  }
  return pairs;
}

/** Percent-decoding as libpq does it: a bad escape or %00 is refused, naming the part but never quoting it (it may be the password). */
function decode(text: string, part: string, from: string): string {
  if (!text.includes("%")) return text;
  const bad = /%(?![0-9a-fA-F]{2})|%00/.exec(text);
  if (bad) throw new InputError(from, `${part} has an invalid percent-encoding (% then two hex digits, not %00)`, "Encode it again.");
  try {
    return decodeURIComponent(text);
  } catch {
    // Not UTF-8: keep libpq's byte-for-byte result as Latin-1 rather than fail.
    return text.replace(/%([0-9a-fA-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  }
}

/** The hosts as libpq lists them in messages: "a:5432,b:5433". */
export function hostsText(hosts: readonly HostPort[]): string {
  return hosts.map(hostPortText).join(",");
}

export function hostPortText({ host, port }: HostPort): string {
  return host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
}
