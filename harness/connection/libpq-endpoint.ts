/**
 * A parsed libpq connection string (conninfo.ts) as pgdrill's Endpoint: the host list, the
 * session attributes, and TLS as node-postgres takes it, with libpq's meaning of sslmode (require
 * encrypts without checking the certificate; verify-ca checks the chain, not the name; verify-full
 * both). node-postgres cannot fall back from TLS to plain text, so `allow` dials plain text and
 * `prefer` dials TLS without verification; libpq's default (no sslmode) dials plain text here.
 */
import { readFileSync } from "node:fs";
import type { ConnectionOptions } from "node:tls";
import { InputError } from "../errors.ts";
import type { ConnInfo } from "./conninfo.ts";
import type { Endpoint } from "./endpoint.ts";

export function libpqEndpoint(info: ConnInfo, node: string, from: string): Endpoint {
  const [first, ...others] = info.hosts;
  if (!first) throw new Error("a parsed connection string has at least one host");
  const ssl = tlsOf(info, from);
  return {
    node,
    host: first.host,
    port: first.port,
    user: info.user,
    password: info.password,
    database: info.database,
    ...(ssl ? { ssl } : {}),
    ...(others.length > 0 ? { hosts: info.hosts } : {}),
    ...(info.targetSessionAttrs !== "any" ? { targetSessionAttrs: info.targetSessionAttrs } : {}),
    ...(info.loadBalanceHosts !== "disable" ? { loadBalanceHosts: info.loadBalanceHosts } : {}),
    ...(info.connectTimeoutMs !== undefined ? { connectTimeoutMs: info.connectTimeoutMs } : {}),
  };
}

function tlsOf(info: ConnInfo, from: string): ConnectionOptions | undefined {
  const mode = info.sslmode;
  if (mode === undefined || mode === "disable" || mode === "allow") return undefined;
  const read = (keyword: "sslrootcert" | "sslcert" | "sslkey"): string | undefined => {
    const path = info[keyword];
    if (path === undefined || (keyword === "sslrootcert" && path === "system")) return undefined;
    try {
      return readFileSync(path, "utf8");
    } catch {
      throw new InputError(from, `${keyword}: cannot read "${path}"`, `Point ${keyword} at a readable PEM file.`);
    }
  };
  const ca = read("sslrootcert");
  const cert = read("sslcert");
  const key = read("sslkey");
  const tls: ConnectionOptions = {
    ...(ca ? { ca } : {}),
    ...(cert ? { cert } : {}),
    ...(key ? { key } : {}),
    ...(info.sslpassword ? { passphrase: info.sslpassword } : {}),
  };
  // libpq: require with a root certificate behaves as verify-ca.
  // no-verify (node-postgres's own) never checks, even with a root certificate.
  const verifyChain = mode === "verify-ca" || mode === "verify-full" || (mode === "require" && ca !== undefined);
  if (!verifyChain) return { ...tls, rejectUnauthorized: false };
  if (mode !== "verify-full") tls.checkServerIdentity = () => undefined;
  return tls;
}
