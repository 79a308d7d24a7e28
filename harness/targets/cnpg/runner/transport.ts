/**
 * How the drill reaches its runner pod, through the API server only: the pod's log stream
 * (GET …/pods/<runner>/log?follow=true) for its lines, and the API server's proxy to the pod's
 * control port (…/pods/<runner>:<port>/proxy/<path>) for pings and commands. Neither touches an
 * instance pod, so neither follows (or loses) a failover, and nothing but the drill's own
 * credentials is needed. One keep-alive agent, so a ping is one request on a warm connection.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest, type RequestOptions } from "node:https";
import type { KubeTarget } from "../kube.ts";
import type { ClockReply } from "./protocol.ts";

export interface RunnerTransport {
  /** GET /clock: the runner's t. */
  clock(): Promise<number>;
  /** POST a command; resolves with the runner's answer. */
  post(path: string, body: unknown): Promise<unknown>;
  /** Follows the runner's stdout from its start; resolves when the stream ends (the runner exited, or it broke). */
  follow(onChunk: (chunk: string) => void, signal: AbortSignal): Promise<void>;
  close(): void;
}

export function kubeRunnerTransport(target: KubeTarget, namespace: string, pod: string, container: string, port: number): RunnerTransport {
  const server = new URL(target.config.getCurrentCluster()?.server ?? target.server);
  const https = server.protocol === "https:";
  // The client's own agent carries the kubeconfig's TLS settings (CA, client certificate); pgdrill
  // makes a keep-alive one with the same, so pings after the first skip the TCP and TLS handshakes.
  let agent: HttpAgent | HttpsAgent | null = null;
  const agentFor = (made: unknown): HttpAgent | HttpsAgent => {
    const tls = (made as { options?: Record<string, unknown> } | undefined)?.options ?? {};
    agent ??= https ? new HttpsAgent({ ...tls, keepAlive: true, maxSockets: 4 }) : new HttpAgent({ keepAlive: true, maxSockets: 4 });
    return agent;
  };
  const base = server.pathname.replace(/\/$/, "");
  const podPath = `${base}/api/v1/namespaces/${encodeURIComponent(namespace)}/pods`;

  async function send(method: string, path: string, body: unknown, timeoutMs: number, signal?: AbortSignal): Promise<IncomingMessage> {
    // The kubeconfig's credentials (a token, refreshed by the client as it does its own) on every request.
    const applied: RequestOptions = { headers: {} };
    await target.config.applyToHTTPSOptions(applied);
    const options: RequestOptions = {
      method,
      hostname: server.hostname,
      port: server.port || (https ? 443 : 80),
      path,
      agent: agentFor(applied.agent),
      headers: { ...applied.headers },
    };
    const text = body === undefined ? undefined : JSON.stringify(body);
    if (text !== undefined)
      options.headers = { ...options.headers, "content-type": "application/json", "content-length": Buffer.byteLength(text) };
    return new Promise((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(options, resolve);
      req.setTimeout(timeoutMs, () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
      req.on("error", reject);
      signal?.addEventListener("abort", () => req.destroy(new Error("aborted")), { once: true });
      req.end(text);
    });
  }

  async function call(method: string, path: string, body?: unknown): Promise<unknown> {
    const res = await send(method, `${podPath}/${encodeURIComponent(pod)}:${port}/proxy${path}`, body, 10_000);
    const text = await readAll(res);
    if ((res.statusCode ?? 500) >= 300)
      throw new Error(`${method} ${path} on the probe runner: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
    return text ? (JSON.parse(text) as unknown) : {};
  }

  return {
    clock: async () => ((await call("GET", "/clock")) as ClockReply).t,
    post: (path, body) => call("POST", path, body),
    async follow(onChunk, signal) {
      const res = await send(
        "GET",
        `${podPath}/${encodeURIComponent(pod)}/log?container=${encodeURIComponent(container)}&follow=true`,
        undefined,
        24 * 3600_000,
        signal,
      );
      if ((res.statusCode ?? 500) >= 300)
        throw new Error(`following the probe runner's log: HTTP ${res.statusCode} ${(await readAll(res)).slice(0, 200)}`);
      res.setEncoding("utf8");
      await new Promise<void>((resolve) => {
        res.on("data", (chunk: string) => onChunk(chunk));
        res.on("end", resolve);
        res.on("error", () => resolve());
        res.on("close", resolve);
      });
    },
    close: () => agent?.destroy(),
  };
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    res.setEncoding("utf8");
    res.on("data", (chunk: string) => (text += chunk));
    res.on("end", () => resolve(text));
    res.on("error", reject);
  });
}
