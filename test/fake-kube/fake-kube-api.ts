/**
 * FAKE KUBERNETES API — the one stand-in pgdrill's tests allow. kind and CloudNativePG need images
 * from the internet, which the test machines cannot reach, so the cnpg target's logic is tested
 * against this in-process HTTP server speaking the Kubernetes REST and watch protocol that
 * @kubernetes/client-node uses: discovery, get/list/create/delete, server-side apply, merge
 * patches (with optimistic locking on resourceVersion), status subresources, and watches with
 * resource versions, bookmarks-free streams, 410 Gone on compaction and dropped connections.
 * It holds whatever objects a test puts in it (see cnpg-world.ts for realistic CloudNativePG
 * ones) and records every request so tests can assert on what the harness asked for. It allocates
 * a Service's NodePorts as the API server does (30000-32767, never one in use), and hands a pod's
 * log stream and the pod proxy (…/pods/<name>/log, …/pods/<name>:<port>/proxy/…) to whoever runs
 * that pod (cnpg-world.ts runs the probe runner's).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: { name: string; namespace?: string; resourceVersion?: string; labels?: Record<string, string>; annotations?: Record<string, string | null>; [key: string]: unknown };
  [key: string]: unknown;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  contentType: string | undefined;
  body: unknown;
}

interface Ref {
  prefix: string;
  namespace: string | undefined;
  plural: string;
  name: string | undefined;
  status: boolean;
}

interface Watcher {
  ref: Ref;
  labelSelector: Record<string, string>;
  fieldName: string | undefined;
  res: ServerResponse;
}

const DISCOVERY: Record<string, Array<{ name: string; kind: string; namespaced: boolean }>> = {
  "/api/v1": [
    { name: "pods", kind: "Pod", namespaced: true },
    { name: "services", kind: "Service", namespaced: true },
    { name: "secrets", kind: "Secret", namespaced: true },
    { name: "namespaces", kind: "Namespace", namespaced: false },
    { name: "nodes", kind: "Node", namespaced: false },
  ],
  "/apis/apps/v1": [{ name: "deployments", kind: "Deployment", namespaced: true }],
  "/apis/coordination.k8s.io/v1": [{ name: "leases", kind: "Lease", namespaced: true }],
  "/apis/discovery.k8s.io/v1": [{ name: "endpointslices", kind: "EndpointSlice", namespaced: true }],
  "/apis/postgresql.cnpg.io/v1": [{ name: "clusters", kind: "Cluster", namespaced: true }],
  "/apis/apiextensions.k8s.io/v1": [{ name: "customresourcedefinitions", kind: "CustomResourceDefinition", namespaced: false }],
};

export class FakeKubeApi {
  readonly requests: RecordedRequest[] = [];
  private readonly objects = new Map<string, KubeObject>();
  private readonly events: Array<{ rv: number; type: string; ref: Ref; object: KubeObject }> = [];
  private readonly watchers = new Set<Watcher>();
  private readonly sockets = new Set<Socket>();
  private readonly deleteHooks: Array<(ref: { namespace: string | undefined; plural: string; name: string }, grace: number | undefined) => void> = [];
  private readonly writeHooks: Array<(plural: string, object: KubeObject) => void> = [];
  private readonly changeHooks: Array<(plural: string, type: string, object: KubeObject) => void> = [];
  private rv = 100;
  /** Watches asking for a resource version below this get 410 Gone. */
  private compactedBelow = 0;
  /** Respond to the next N watch requests with HTTP 500 (a flapping API server). */
  failNextWatches = 0;
  private server: Server | null = null;
  private podLogHandler: PodLogHandler | null = null;
  private podProxyHandler: PodProxyHandler | null = null;

  /** Who serves GET …/pods/<name>/log (false: no such pod running, 404). */
  onPodLog(handler: PodLogHandler): void {
    this.podLogHandler = handler;
  }

  /** Who serves …/pods/<name>:<port>/proxy/<path> (false: nothing listens there, 503). */
  onPodProxy(handler: PodProxyHandler): void {
    this.podProxyHandler = handler;
  }

  /** A free NodePort in the default range (pkg/registry/core/service/portallocator): random, not held by another Service. */
  allocateNodePort(): number {
    const used = new Set<number>();
    for (const object of this.objects.values()) {
      for (const port of ((object.spec as { ports?: Array<{ nodePort?: number }> } | undefined)?.ports ?? [])) if (port.nodePort) used.add(port.nodePort);
    }
    for (;;) {
      const port = 30000 + Math.floor(Math.random() * 2768);
      if (!used.has(port)) return port;
    }
  }

  /** A Service as the API server stores it: every port of a NodePort Service without one gets one. */
  withNodePorts(object: KubeObject): KubeObject {
    const spec = object.spec as { type?: string; ports?: Array<Record<string, unknown>> } | undefined;
    if (object.kind !== "Service" || (spec?.type !== "NodePort" && spec?.type !== "LoadBalancer")) return object;
    return { ...object, spec: { ...spec, ports: (spec.ports ?? []).map((port) => (port.nodePort ? port : { ...port, nodePort: this.allocateNodePort() })) } };
  }

  async listen(): Promise<string> {
    this.server = createServer((req, res) => void this.handle(req, res));
    this.server.on("connection", (socket) => {
      this.sockets.add(socket);
      socket.on("close", () => this.sockets.delete(socket));
    });
    await new Promise<void>((resolve) => this.server!.listen(0, "127.0.0.1", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async close(): Promise<void> {
    for (const watcher of this.watchers) watcher.res.destroy();
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }

  /** A kubeconfig for this server with one context, `name`. */
  kubeconfig(server: string, name: string): string {
    return [
      "apiVersion: v1",
      "kind: Config",
      `clusters: [{name: ${name}, cluster: {server: "${server}", insecure-skip-tls-verify: true}}]`,
      `users: [{name: ${name}, user: {token: fake-token}}]`,
      `contexts: [{name: ${name}, context: {cluster: ${name}, user: ${name}}}]`,
      `current-context: ${name}`,
    ].join("\n");
  }

  /** Called after a client (not a script) creates or applies an object. */
  onWrite(hook: (plural: string, object: KubeObject) => void): void {
    this.writeHooks.push(hook);
  }

  onDelete(hook: (ref: { namespace: string | undefined; plural: string; name: string }, grace: number | undefined) => void): void {
    this.deleteHooks.push(hook);
  }

  /** Called after every change to any object, by a client or a script (what a controller's informer sees). */
  onChange(hook: (plural: string, type: string, object: KubeObject) => void): void {
    this.changeHooks.push(hook);
  }

  // ---- Scripting (what the operator and kubelet would do) ----------------------------------

  get(prefix: string, namespace: string | undefined, plural: string, name: string): KubeObject | undefined {
    const found = this.objects.get(key({ prefix, namespace, plural, name, status: false }));
    return found ? structuredClone(found) : undefined;
  }

  /** Creates or replaces an object and tells the watchers. */
  put(prefix: string, plural: string, object: KubeObject): KubeObject {
    const ref: Ref = { prefix, namespace: object.metadata.namespace, plural, name: object.metadata.name, status: false };
    const existed = this.objects.has(key(ref));
    return this.store(ref, structuredClone(object), existed ? "MODIFIED" : "ADDED");
  }

  /** Applies a JSON merge patch (null deletes a key) and tells the watchers. */
  patch(prefix: string, namespace: string | undefined, plural: string, name: string, patch: object): KubeObject {
    const ref: Ref = { prefix, namespace, plural, name, status: false };
    const current = this.objects.get(key(ref));
    if (!current) throw new Error(`fake: no ${plural} ${name}`);
    return this.store(ref, mergePatch(current, patch) as KubeObject, "MODIFIED");
  }

  remove(prefix: string, namespace: string | undefined, plural: string, name: string): void {
    const ref: Ref = { prefix, namespace, plural, name, status: false };
    const current = this.objects.get(key(ref));
    if (!current) return;
    this.objects.delete(key(ref));
    this.rv += 1;
    this.emit(ref, "DELETED", { ...current, metadata: { ...current.metadata, resourceVersion: String(this.rv) } });
  }

  /** Every open watch connection is cut (a load balancer reset, an API server restart). */
  dropWatches(): void {
    for (const watcher of this.watchers) watcher.res.socket?.destroy();
    this.watchers.clear();
  }

  /** History is compacted: open watches get 410 Gone, and so does any watch from an older version. */
  expireWatches(): void {
    this.compactedBelow = this.rv + 1;
    for (const watcher of this.watchers) {
      watcher.res.end(JSON.stringify({ type: "ERROR", object: { kind: "Status", apiVersion: "v1", status: "Failure", reason: "Expired", code: 410, message: "too old resource version" } }) + "\n");
    }
    this.watchers.clear();
  }

  get openWatches(): number {
    return this.watchers.size;
  }

  // ---- HTTP --------------------------------------------------------------------------------

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://fake");
    const query = Object.fromEntries(url.searchParams);
    const text = await readBody(req);
    const body = text ? safeJson(text) : undefined;
    const path = url.pathname;
    this.requests.push({ method: req.method ?? "GET", path, query, contentType: req.headers["content-type"], body });

    const log = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/:]+)\/log$/.exec(path);
    if (log && req.method === "GET") {
      if (this.podLogHandler?.(log[1]!, log[2]!, query, res)) return;
      return status(res, 404, "NotFound", `pods "${log[2]}" has no log here`);
    }
    const proxy = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/:]+):(\d+)\/proxy(\/.*)?$/.exec(decodeURIComponent(path));
    if (proxy) {
      if (this.podProxyHandler?.({ namespace: proxy[1]!, pod: proxy[2]!, port: Number(proxy[3]), path: `${proxy[4] ?? "/"}${url.search}`, method: req.method ?? "GET", body: text }, res)) return;
      return status(res, 503, "ServiceUnavailable", `error trying to reach service: dial tcp: pod ${proxy[2]} port ${proxy[3]}: connection refused`);
    }

    const discovery = DISCOVERY[path];
    if (discovery && req.method === "GET") return json(res, 200, { kind: "APIResourceList", apiVersion: "v1", groupVersion: path.replace(/^\/apis?\//, ""), resources: discovery.map((r) => ({ ...r, singularName: "", verbs: ["get", "list", "watch", "create", "delete", "patch"] })) });
    const ref = parsePath(path);
    if (!ref) return status(res, 404, "NotFound", `no route ${path}`);

    if (req.method === "GET" && ref.name === undefined) {
      if (query.watch === "true") return this.startWatch(ref, query, res);
      const items = this.list(ref, parseSelector(query.labelSelector), fieldName(query.fieldSelector));
      return json(res, 200, { kind: "List", apiVersion: "v1", metadata: { resourceVersion: String(this.rv) }, items });
    }
    if (ref.name === undefined) {
      if (req.method === "POST") {
        const object = body as KubeObject;
        const invalid = ref.plural === "customresourcedefinitions" ? structuralSchemaProblems(object) : [];
        if (invalid.length > 0) return status(res, 422, "Invalid", `CustomResourceDefinition.apiextensions.k8s.io "${object.metadata.name}" is invalid: [${invalid.join(", ")}]`);
        const target = { ...ref, name: object.metadata.name };
        if (this.objects.has(key(target))) return status(res, 409, "AlreadyExists", `${ref.plural} "${object.metadata.name}" already exists`);
        const created = this.store(target, this.withNodePorts({ ...object, metadata: { ...object.metadata, ...(ref.namespace ? { namespace: ref.namespace } : {}) } }), "ADDED");
        for (const hook of this.writeHooks) hook(ref.plural, created);
        return json(res, 201, created);
      }
      return status(res, 405, "MethodNotAllowed", "method not allowed");
    }

    const current = this.objects.get(key(ref));
    switch (req.method) {
      case "GET":
        return current ? json(res, 200, current) : status(res, 404, "NotFound", `${ref.plural} "${ref.name}" not found`);
      case "DELETE": {
        if (!current) return status(res, 404, "NotFound", `${ref.plural} "${ref.name}" not found`);
        const graceText = query.gracePeriodSeconds ?? (body as { gracePeriodSeconds?: number } | undefined)?.gracePeriodSeconds;
        const grace = graceText === undefined ? undefined : Number(graceText);
        for (const hook of this.deleteHooks) hook({ namespace: ref.namespace, plural: ref.plural, name: ref.name }, grace);
        if (ref.plural === "namespaces") {
          for (const [k, object] of [...this.objects]) {
            if (object.metadata.namespace === ref.name) this.objects.delete(k);
          }
        }
        // Hooks may already have replaced the object (a pod recreated by its operator).
        if (this.objects.get(key(ref)) === current) this.remove(ref.prefix, ref.namespace, ref.plural, ref.name);
        return json(res, 200, { kind: "Status", apiVersion: "v1", status: "Success" });
      }
      case "PATCH": {
        const contentType = req.headers["content-type"] ?? "";
        if (contentType.startsWith("application/apply-patch")) {
          const applied = body as KubeObject;
          const invalid = ref.plural === "customresourcedefinitions" ? structuralSchemaProblems(applied) : [];
          if (invalid.length > 0) return status(res, 422, "Invalid", `CustomResourceDefinition.apiextensions.k8s.io "${ref.name}" is invalid: [${invalid.join(", ")}]`);
          const next = current ? mergePatch(current, { ...applied, metadata: { ...applied.metadata, resourceVersion: undefined } }) : applied;
          const stored = this.store({ ...ref, status: false }, next as KubeObject, current ? "MODIFIED" : "ADDED");
          for (const hook of this.writeHooks) hook(ref.plural, stored);
          return json(res, current ? 200 : 201, stored);
        }
        if (!current) return status(res, 404, "NotFound", `${ref.plural} "${ref.name}" not found`);
        if (!contentType.startsWith("application/merge-patch+json")) return status(res, 415, "UnsupportedMediaType", `fake supports merge and apply patches, got ${contentType}`);
        const patch = (body ?? {}) as { metadata?: { resourceVersion?: string }; status?: unknown };
        const wanted = patch.metadata?.resourceVersion;
        if (wanted !== undefined && wanted !== current.metadata.resourceVersion) {
          return status(res, 409, "Conflict", "the object has been modified; please apply your changes to the latest version and try again");
        }
        // The status subresource only takes status; the main resource ignores status (as a CRD with a status subresource does).
        const effective = ref.status ? { status: patch.status } : { ...patch, status: undefined };
        const cleaned = JSON.parse(JSON.stringify(effective)) as object;
        if (patch.metadata && !ref.status) (cleaned as { metadata?: unknown }).metadata = { ...patch.metadata, resourceVersion: undefined };
        const stored = this.store({ ...ref, status: false }, mergePatch(current, cleaned) as KubeObject, "MODIFIED");
        for (const hook of this.writeHooks) hook(ref.status ? `${ref.plural}/status` : ref.plural, stored);
        return json(res, 200, stored);
      }
      default:
        return status(res, 405, "MethodNotAllowed", "method not allowed");
    }
  }

  private list(ref: Ref, labels: Record<string, string>, name: string | undefined): KubeObject[] {
    // No namespace in the path: every namespace's objects (as /apis/apps/v1/deployments lists them).
    const inScope = (k: string) => (ref.namespace === undefined ? k.startsWith(`${ref.prefix}|`) && k.split("|")[2] === ref.plural : k.startsWith(collectionKey(ref)));
    return [...this.objects.entries()]
      .filter(([k]) => inScope(k))
      .map(([, object]) => object)
      .filter((object) => matches(object, labels, name));
  }

  private startWatch(ref: Ref, query: Record<string, string>, res: ServerResponse): void {
    if (this.failNextWatches > 0) {
      this.failNextWatches -= 1;
      return status(res, 500, "InternalError", "fake: watch refused");
    }
    const from = query.resourceVersion ? Number(query.resourceVersion) : this.rv;
    res.writeHead(200, { "content-type": "application/json", "transfer-encoding": "chunked" });
    if (from < this.compactedBelow) {
      res.end(JSON.stringify({ type: "ERROR", object: { kind: "Status", apiVersion: "v1", status: "Failure", reason: "Expired", code: 410, message: "too old resource version" } }) + "\n");
      return;
    }
    const watcher: Watcher = { ref, labelSelector: parseSelector(query.labelSelector), fieldName: fieldName(query.fieldSelector), res };
    for (const event of this.events) {
      if (event.rv > from && collectionKey(event.ref) === collectionKey(ref) && matches(event.object, watcher.labelSelector, watcher.fieldName)) {
        res.write(JSON.stringify({ type: event.type, object: event.object }) + "\n");
      }
    }
    this.watchers.add(watcher);
    res.on("close", () => this.watchers.delete(watcher));
    const timeout = Number(query.timeoutSeconds ?? 0);
    if (timeout > 0) {
      setTimeout(() => {
        if (this.watchers.delete(watcher)) res.end();
      }, timeout * 1000).unref();
    }
  }

  private store(ref: Ref, object: KubeObject, type: "ADDED" | "MODIFIED"): KubeObject {
    this.rv += 1;
    const stored = { ...object, metadata: { ...object.metadata, resourceVersion: String(this.rv), ...(ref.namespace ? { namespace: ref.namespace } : {}) } };
    this.objects.set(key({ ...ref, status: false }), stored);
    this.emit(ref, type, stored);
    return structuredClone(stored);
  }

  private emit(ref: Ref, type: string, object: KubeObject): void {
    this.events.push({ rv: this.rv, type, ref, object: structuredClone(object) });
    for (const watcher of this.watchers) {
      if (collectionKey(watcher.ref) === collectionKey(ref) && matches(object, watcher.labelSelector, watcher.fieldName)) {
        watcher.res.write(JSON.stringify({ type, object }) + "\n");
      }
    }
    // After the watchers, and not inside this write: a hook's own writes come later in every stream, as an informer's would.
    const copy = structuredClone(object);
    for (const hook of this.changeHooks) queueMicrotask(() => hook(ref.plural, type, copy));
  }
}

export type PodLogHandler = (namespace: string, pod: string, query: Record<string, string>, res: ServerResponse) => boolean;
export type PodProxyHandler = (request: { namespace: string; pod: string; port: number; path: string; method: string; body: string }, res: ServerResponse) => boolean;

/**
 * A structural schema's first rule, as the real API server enforces it: every property names its
 * type, unless it says it is an int-or-string or keeps unknown fields. Learnt from a real kind
 * cluster (Kubernetes v1.34.4), which refused CloudNativePG 1.30's Cluster CRD with
 * "spec.validation.openAPIV3Schema.properties[spec].properties[ephemeralVolumesSizeLimit]
 * .properties[shm].type: Required value: must not be empty for specified object fields" when the
 * client library had dropped its `x-kubernetes-int-or-string: true` on the way.
 */
function structuralSchemaProblems(crd: KubeObject): string[] {
  const problems: string[] = [];
  const walk = (schema: Record<string, unknown>, path: string) => {
    for (const [name, child] of Object.entries((schema.properties ?? {}) as Record<string, Record<string, unknown>>)) {
      const at = `${path}.properties[${name}]`;
      if (child.type === undefined && child["x-kubernetes-int-or-string"] !== true && child["x-kubernetes-preserve-unknown-fields"] !== true) {
        problems.push(`${at}.type: Required value: must not be empty for specified object fields`);
      }
      walk(child, at);
      if (child.items && typeof child.items === "object") walk(child.items as Record<string, unknown>, `${at}.items`);
    }
  };
  const versions = ((crd as { spec?: { versions?: Array<{ schema?: { openAPIV3Schema?: Record<string, unknown> } }> } }).spec?.versions ?? []);
  for (const version of versions) if (version.schema?.openAPIV3Schema) walk(version.schema.openAPIV3Schema, "spec.validation.openAPIV3Schema");
  return problems;
}

function parsePath(path: string): Ref | null {
  const match = /^(\/api\/v1|\/apis\/[^/]+\/[^/]+)\/(.+)$/.exec(path);
  if (!match) return null;
  const prefix = match[1]!;
  const segments = match[2]!.split("/");
  if (segments[0] === "namespaces" && segments.length >= 3) {
    return { prefix, namespace: segments[1], plural: segments[2]!, name: segments[3], status: segments[4] === "status" };
  }
  return { prefix, namespace: undefined, plural: segments[0]!, name: segments[1], status: segments[2] === "status" };
}

function key(ref: Ref): string {
  return `${collectionKey(ref)}${ref.name ?? ""}`;
}

function collectionKey(ref: Ref): string {
  return `${ref.prefix}|${ref.namespace ?? ""}|${ref.plural}|`;
}

function parseSelector(selector: string | undefined): Record<string, string> {
  if (!selector) return {};
  return Object.fromEntries(selector.split(",").map((part) => part.split("=") as [string, string]));
}

function fieldName(selector: string | undefined): string | undefined {
  return selector?.startsWith("metadata.name=") ? selector.slice("metadata.name=".length) : undefined;
}

function matches(object: KubeObject, labels: Record<string, string>, name: string | undefined): boolean {
  if (name !== undefined && object.metadata.name !== name) return false;
  return Object.entries(labels).every(([k, v]) => object.metadata.labels?.[k] === v);
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== "object" || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> = typeof target === "object" && target !== null && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else if (v !== undefined) out[k] = mergePatch(out[k], v);
  }
  return out;
}

function json(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

function status(res: ServerResponse, code: number, reason: string, message: string): void {
  json(res, code, { kind: "Status", apiVersion: "v1", status: "Failure", reason, message, code });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    req.on("data", (chunk: Buffer) => (text += chunk.toString()));
    req.on("end", () => resolve(text));
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
