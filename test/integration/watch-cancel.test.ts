/**
 * `pgdrill watch` interrupted while it is still starting, as a person does it: a real pgdrill
 * process in a pseudo-terminal (util-linux `script`), Ctrl-C typed while it keeps trying to reach an
 * endpoint that refuses connections (a port just closed on 127.0.0.1). Nothing was measured, so it
 * should end at once, cleanly: exit 130, one line that says so, and no run directory left behind.
 * No Docker: nothing listens there.
 */
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { createServer } from "node:net";
import { describe, expect, it } from "vitest";
import { tempRunDir } from "./helpers.ts";

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (typeof address !== "object" || !address) throw new Error("no port");
  return address.port;
}

describe("pgdrill watch: Ctrl-C while it is still starting (a real process in a pseudo-terminal)", { timeout: 60_000 }, () => {
  it("exits 130 within a second or two, says so in one line, and leaves no run directory", async () => {
    const out = tempRunDir("watch-cancel");
    const url = `postgresql://app:secret@127.0.0.1:${await closedPort()}/app`;
    const command = [process.execPath, "bin/pgdrill.js", "watch", url, "--out", out].map((arg) => `'${arg}'`).join(" ");
    const child = spawn("script", ["-q", "-e", "-c", command, "/dev/null"], { stdio: ["pipe", "pipe", "pipe"], env: { ...process.env, NO_COLOR: "1" } });
    let output = "";
    child.stdout.on("data", (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on("data", (chunk: Buffer) => (output += chunk.toString()));
    const exit = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    const deadline = Date.now() + 30_000;
    while (!/keys: m mark a moment/.test(output)) {
      if (Date.now() > deadline) throw new Error(`the watch did not start:\n${output}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // It is now retrying the refused endpoint (every 500 ms, for up to the 30 s start-up timeout).
    await new Promise((resolve) => setTimeout(resolve, 700));
    expect(existsSync(out)).toBe(true);
    const pressed = Date.now();
    child.stdin.write("\u0003");
    const code = await exit;
    const took = Date.now() - pressed;
    console.log(`watch cancelled while starting: exit ${code} ${took} ms after Ctrl-C`);
    expect(code).toBe(130);
    expect(took).toBeLessThan(3000);
    const said = output.split(/\r?\n/).filter((line) => line.includes("pgdrill: watch stopped"));
    expect(said).toHaveLength(1);
    expect(said[0]).toMatch(/pgdrill: watch stopped \(SIGINT\) while it was still starting, before anything was measured: no report; removed its run directory /);
    // Not dressed as a failed run: no verdict, no "errored"/"aborted", no stack.
    expect(output).not.toMatch(/errored|aborted|verdict|\n\s+at /);
    expect(existsSync(out)).toBe(false);
  });
});
