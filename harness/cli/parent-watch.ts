/**
 * The launcher's death, seen from the drill. On a Node older than pgdrill needs, bin/pgdrill.js
 * hands over to a newer one: it spawns it as a child in a process group of its own (so a terminal
 * Ctrl-C reaches it once, through the launcher), with an IPC channel, and names itself in
 * PGDRILL_LAUNCHER_PID. Signals the launcher receives it forwards; a SIGKILL, or a closed terminal,
 * it cannot, and the child would go on drilling with nobody watching. The channel closes when the
 * launcher's process ends, however it ends, and `disconnect` says so: the child then stops as on
 * SIGTERM (cli/main.ts onInterrupt).
 */
const LAUNCHER_ENV = "PGDRILL_LAUNCHER_PID";

let launcher: { pid: number; goneAt: number | null } | null = null;
const listeners = new Set<(pid: number) => void>();

/** Starts watching, once, if this process was handed over to; elsewhere (tests, a direct start) does nothing. */
export function watchLauncher(): void {
  const named = process.env[LAUNCHER_ENV];
  if (launcher || named === undefined) return;
  // Not for what we start ourselves (kind, docker, zx commands): they have no such launcher.
  delete process.env[LAUNCHER_ENV];
  const pid = Number(named);
  if (!process.channel || !Number.isInteger(pid)) return;
  const watched = { pid, goneAt: null as number | null };
  launcher = watched;
  const gone = () => {
    if (watched.goneAt !== null) return;
    watched.goneAt = Date.now();
    for (const listener of [...listeners]) listener(pid);
  };
  process.on("disconnect", gone);
  // A `disconnect` listener holds the event loop through the channel; the channel must not keep
  // pgdrill running once its command is done. (After `on`, which refs it, or the unref is undone.)
  process.channel.unref();
  if (!process.connected) gone();
}

/**
 * Calls `callback` with the launcher's pid when it is gone (at once if it already is). Returns a
 * function that stops listening. Never calls it where there is no launcher.
 */
export function onLauncherGone(callback: (pid: number) => void): () => void {
  if (launcher?.goneAt != null) {
    const pid = launcher.pid;
    const timer = setImmediate(() => callback(pid));
    return () => clearImmediate(timer);
  }
  listeners.add(callback);
  return () => listeners.delete(callback);
}
