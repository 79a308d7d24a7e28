/**
 * FAKE — the cluster's DNS and Service IPs, for a pod the fake runs as a local process (the
 * probe runner, cnpg-world.ts). In a cluster, `pg-rw.<ns>.svc:5432` is a name kube-dns answers
 * and a ClusterIP kube-proxy routes; here no name resolves, so this module, loaded into the
 * process with `node --import`, turns each `<service>.<ns>.svc[.cluster.local]:<port>` the process
 * dials into the local address of the fake's stand-in for that Service
 * (PGDRILL_FAKE_CLUSTER_DNS: {"host:port": "127.0.0.1:port"}). Nothing else the process does is
 * changed: the names it dials are the ones the drill put in its config.
 */
import net from "node:net";

const routes = JSON.parse(process.env.PGDRILL_FAKE_CLUSTER_DNS ?? "{}") as Record<string, string>;

function route(host: unknown, port: unknown): { host: string; port: number } | null {
  if (typeof host !== "string") return null;
  const to = routes[`${host.replace(/\.cluster\.local$/, "")}:${String(port)}`];
  if (!to) return null;
  const colon = to.lastIndexOf(":");
  return { host: to.slice(0, colon), port: Number(to.slice(colon + 1)) };
}

const original = net.Socket.prototype.connect;
net.Socket.prototype.connect = function connect(this: net.Socket, ...args: unknown[]) {
  const [first, second] = args;
  if (typeof first === "object" && first !== null && "port" in first) {
    const options = first as net.TcpNetConnectOpts;
    const to = route(options.host, options.port);
    if (to) args[0] = { ...options, host: to.host, port: to.port };
  } else if ((typeof first === "number" || typeof first === "string") && typeof second === "string") {
    const to = route(second, first);
    if (to) {
      args[0] = to.port;
      args[1] = to.host;
    }
  }
  return (original as (...rest: unknown[]) => net.Socket).apply(this, args);
} as typeof net.Socket.prototype.connect;
