/**
 * A running driver agent: its process (in a process group of its own, so it and anything it
 * started can be killed at once), its stdout read as the line protocol (runner/protocol.ts; every
 * event checked by the History's validator where it enters), its stderr to the drill's log, bounded.
 */
import { errorMessage } from "../../errors.ts";
import { spawn, type ChildProcessByStdio } from "node:child_process";
import { createInterface } from "node:readline";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";
import { isBadLine, readRunnerLine, type HelloLine, type StateLine } from "../../runner/protocol.ts";
import type { HistoryEvent } from "../../history/events.ts";
import { AGENT_CONFIG_ENV, type AgentConfig } from "./config.ts";

/** Lines of an agent's stderr (and stray stdout) the drill's log gets; the rest are counted. */
const MAX_LOG_LINES = 50;

export interface AgentOptions {
  dir: string;
  config: AgentConfig;
  password: string;
  log: (line: string) => void;
}

export class AgentProcess {
  hello: HelloLine | null = null;
  readonly states: Array<StateLine["state"]> = [];
  /** The agent's last error line, or its stderr's last line: why it failed, when it did. */
  lastError: string | null = null;
  /** The first line tagged as the protocol's that was wrong. */
  badLine: string | null = null;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  exitedYet = false;
  onEvent: (event: HistoryEvent) => void = () => undefined;

  private readonly child: ChildProcessByStdio<Writable, Readable, Readable>;
  private readonly label: string;
  private readonly log: (line: string) => void;
  private logged = 0;
  private lastSeq = 0;
  private helloWaiters: Array<() => void> = [];

  constructor(options: AgentOptions) {
    this.label = `${options.config.driver} agent (${options.config.probe.name})`;
    this.log = options.log;
    // The driver reads PG* variables as defaults (PGSSLMODE, PGOPTIONS, …): only what pgdrill says reaches it.
    const env: NodeJS.ProcessEnv = Object.fromEntries(Object.entries(process.env).filter(([key]) => !/^PG(?!DRILL_CACHE_DIR$)/.test(key)));
    env[AGENT_CONFIG_ENV] = JSON.stringify(options.config);
    env.PGPASSWORD = options.password;
    this.child = spawn(join(options.dir, "run"), [], { env, stdio: ["pipe", "pipe", "pipe"], detached: true });
    // A write to an agent that has gone is answered by its exit, not by a crash here.
    this.child.stdin.on("error", () => undefined);
    this.exited = new Promise((resolve) => {
      this.child.on("error", (error) => {
        this.lastError = `could not start: ${error.message}`;
        this.exitedYet = true;
        resolve({ code: null, signal: null });
      });
      this.child.on("close", (code, signal) => {
        this.exitedYet = true;
        for (const waiter of this.helloWaiters) waiter();
        resolve({ code, signal });
      });
    });
    createInterface({ input: this.child.stdout }).on("line", (text) => this.line(text));
    createInterface({ input: this.child.stderr }).on("line", (text) => {
      if (text.trim() === "") return;
      this.lastError = text.trim().slice(0, 300);
      this.toLog(text);
    });
  }

  /** Resolves on the hello line, or when the agent exits without one. */
  waitForHello(): Promise<void> {
    if (this.hello || this.exitedYet) return Promise.resolve();
    return new Promise((resolve) => this.helloWaiters.push(resolve));
  }

  send(command: { command: "run"; durationMs: number } | { command: "stop" }): void {
    if (!this.child.stdin.writableEnded) this.child.stdin.write(`${JSON.stringify(command)}\n`);
  }

  /** Closes its stdin: the agent stops and exits at once. */
  endInput(): void {
    if (!this.child.stdin.writableEnded) this.child.stdin.end();
  }

  /** Kills its process group. */
  kill(): void {
    if (this.exitedYet || this.child.pid === undefined) return;
    try {
      process.kill(-this.child.pid, "SIGKILL");
    } catch {
      // gone already
    }
  }

  private toLog(text: string): void {
    this.logged += 1;
    if (this.logged <= MAX_LOG_LINES) this.log(`${this.label}: ${text.slice(0, 300)}`);
    else if (this.logged === MAX_LOG_LINES + 1) this.log(`${this.label}: more output not shown`);
  }

  private line(text: string): void {
    const line = readRunnerLine(text);
    if (line === null) {
      if (text.trim() !== "") this.toLog(text);
      return;
    }
    if (isBadLine(line)) {
      this.badLine ??= line.problem;
      this.toLog(`a bad line: ${line.problem}`);
      return;
    }
    if (line.seq <= this.lastSeq) return;
    this.lastSeq = line.seq;
    switch (line.type) {
      case "hello":
        this.hello = line;
        for (const waiter of this.helloWaiters) waiter();
        this.helloWaiters = [];
        return;
      case "state":
        this.states.push(line.state);
        return;
      case "error":
        this.lastError = line.message.slice(0, 300);
        this.toLog(line.message);
        return;
      case "event":
        // A line handler that throws would escape to the process (readline's event) and end the drill with nothing healed:
        // kept as the agent's failure instead, which fails the probe through the drill's own path.
        try {
          this.onEvent(line.event);
        } catch (error) {
          this.badLine ??= `its event could not be recorded (${errorMessage(error)})`;
          this.child.kill("SIGKILL");
        }
        return;
    }
  }
}
