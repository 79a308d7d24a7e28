/**
 * Nothing hangs: a server that accepts TCP but never speaks, and one that answers the handshake
 * and then goes silent, both end in a recorded failure within the deadline.
 */
import { createServer, type Server, type Socket } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { DeadlineError } from "../../harness/connection/errors.ts";
import { Session } from "../../harness/connection/session.ts";
import { writeOutcome } from "../../harness/probe/writes.ts";

let server: Server | null = null;
const sockets: Socket[] = [];

async function listen(onConnection: (socket: Socket) => void): Promise<number> {
  server = createServer((socket) => {
    sockets.push(socket);
    onConnection(socket);
  });
  await new Promise<void>((resolve) => server!.listen(0, "127.0.0.1", resolve));
  return (server!.address() as { port: number }).port;
}

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  if (!server) return;
  await new Promise((resolve) => server!.close(resolve));
  server = null;
});

const endpoint = (port: number) => ({ node: "silent", host: "127.0.0.1", port, user: "postgres", password: "x", database: "postgres" });

describe("session deadlines", () => {
  it("gives up on a server that accepts TCP and never answers, within the connect timeout", async () => {
    const port = await listen(() => undefined);
    const started = Date.now();
    const error = await Session.connect(endpoint(port), { connectTimeoutMs: 300, applicationName: "test" }).catch((e: unknown) => e);
    const elapsed = Date.now() - started;
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toMatch(/timeout|timed out/i);
    expect(elapsed).toBeLessThan(2000);
  });

  it("gives up on a query the server never answers, and marks the session unusable", async () => {
    // Answer the startup with AuthenticationOk + ReadyForQuery, then ignore the query.
    const port = await listen((socket) => {
      socket.once("data", () => {
        const authOk = Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0]);
        const ready = Buffer.from([0x5a, 0, 0, 0, 5, 0x49]);
        socket.write(Buffer.concat([authOk, ready]));
      });
    });
    const session = await Session.connect(endpoint(port), { connectTimeoutMs: 1000, applicationName: "test" });
    const started = Date.now();
    const error = await session.query("SELECT 1", [], 300).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlineError);
    expect((error as DeadlineError).afterSend).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(session.usable).toBe(false);
    await session.close();
  });

  it("classifies a deadline after the statement was sent as unknown, not failed", () => {
    expect(writeOutcome(new DeadlineError("query", 1000, true))).toBe("info");
    expect(writeOutcome(new DeadlineError("connect", 1000, false))).toBe("fail");
    expect(writeOutcome(Object.assign(new Error("terminating connection"), { severity: "FATAL", code: "57P01" }))).toBe("info");
    expect(writeOutcome(Object.assign(new Error("read-only transaction"), { severity: "ERROR", code: "25006" }))).toBe("fail");
  });
});
