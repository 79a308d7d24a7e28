/**
 * The launcher's death as the drill sees it (cli/parent-watch.ts), with real processes: a launcher
 * that spawns a child the way bin/pgdrill.js does (own process group, IPC channel,
 * PGDRILL_LAUNCHER_PID), then is SIGKILLed.
 */
import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";

/** The child: watches its launcher and says when it is gone. `keepAlive` ms of work keep it running. */
const child = (keepAlive: number) => `
const { watchLauncher, onLauncherGone } = await import("./harness/cli/parent-watch.ts");
watchLauncher();
onLauncherGone((pid) => { console.log("launcher " + pid + " gone, my parent is now " + process.ppid); process.exit(0); });
console.log("watching " + process.pid);
${keepAlive > 0 ? `setTimeout(() => console.log("worked ${keepAlive} ms"), ${keepAlive});` : ""}
`;

/** The launcher: spawns the child as bin/pgdrill.js does and waits for it. */
const launcher = (keepAlive: number) => `
const { spawn } = await import("node:child_process");
const child = spawn(process.execPath, ["--input-type=module", "-e", ${JSON.stringify(child(keepAlive))}], {
  stdio: ["inherit", "inherit", "inherit", "ipc"],
  detached: true,
  env: { ...process.env, PGDRILL_LAUNCHER_PID: String(process.pid) },
});
child.on("exit", (code) => { console.log("child exited " + code); process.exit(0); });
`;

function start(keepAlive: number) {
  const proc = spawn(process.execPath, ["--input-type=module", "-e", launcher(keepAlive)], { stdio: ["ignore", "pipe", "inherit"], detached: true });
  let output = "";
  proc.stdout!.on("data", (chunk: Buffer) => (output += chunk.toString()));
  const waitFor = (pattern: RegExp, ms: number) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const deadline = Date.now() + ms;
      const poll = () => {
        const match = pattern.exec(output);
        if (match) resolve(match);
        else if (Date.now() > deadline) reject(new Error(`no ${pattern} within ${ms} ms: ${output}`));
        else setTimeout(poll, 10);
      };
      poll();
    });
  return { proc, waitFor, output: () => output };
}

describe("watching the launcher", { timeout: 20_000 }, () => {
  it("a child whose launcher is SIGKILLed hears of it at once", async () => {
    const { proc, waitFor } = start(15_000);
    const [, childPid] = await waitFor(/watching (\d+)/, 10_000);
    const killedAt = Date.now();
    process.kill(-proc.pid!, "SIGKILL");
    try {
      const [, gonePid] = await waitFor(/launcher (\d+) gone/, 5_000);
      expect(Number(gonePid)).toBe(proc.pid);
      expect(Date.now() - killedAt).toBeLessThan(1_000);
    } finally {
      try {
        process.kill(Number(childPid), "SIGKILL");
      } catch {
        // it exited, as it should
      }
    }
  });

  it("the channel does not keep the child running once its work is done", async () => {
    const { waitFor, output } = start(200);
    await waitFor(/child exited 0/, 10_000);
    expect(output()).toMatch(/worked 200 ms/);
    expect(output()).not.toMatch(/gone/);
  });
});
