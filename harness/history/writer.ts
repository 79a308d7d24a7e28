/**
 * Appends History events to `history.jsonl` as they happen. Lines are buffered for at most
 * FLUSH_EVERY_MS and written with one synchronous write, so probe workers never wait on the disk
 * and a SIGKILLed harness loses at most that much of its evidence.
 */
import { closeSync, fsyncSync, openSync, writeSync } from "node:fs";
import { secretMasker } from "../secrets.ts";
import type { HistoryEvent } from "./events.ts";

const FLUSH_EVERY_MS = 100;

export type HistoryListener = (event: HistoryEvent) => void;

export class HistoryWriter {
  readonly path: string;
  private fd: number | null;
  private buffer: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  private readonly listeners: HistoryListener[] = [];
  private count = 0;

  /** The secrets known when the History opened (the scenario's, the environment's), masked in every string value. */
  private readonly mask = secretMasker();
  private readonly replacer = (_key: string, value: unknown): unknown => (typeof value === "string" ? this.mask(value) : value);

  private constructor(path: string, fd: number) {
    this.path = path;
    this.fd = fd;
  }

  /** Opens for appending; an existing file is kept (a history is never rewritten). */
  static open(path: string): HistoryWriter {
    return new HistoryWriter(path, openSync(path, "a"));
  }

  get eventCount(): number {
    return this.count;
  }

  /** Listeners see every event as it is appended: the live view and the steady-state tally. */
  onEvent(listener: HistoryListener): void {
    this.listeners.push(listener);
  }

  append(event: HistoryEvent): void {
    if (this.fd === null) return; // closed: late completions after teardown are dropped, not crashed on
    this.buffer.push(JSON.stringify(event, this.replacer));
    this.count += 1;
    for (const listener of this.listeners) listener(event);
    this.timer ??= setTimeout(() => this.flush(), FLUSH_EVERY_MS);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.fd === null || this.buffer.length === 0) return;
    const chunk = this.buffer.join("\n") + "\n";
    this.buffer = [];
    writeSync(this.fd, chunk);
  }

  close(): void {
    if (this.fd === null) return;
    this.flush();
    fsyncSync(this.fd);
    closeSync(this.fd);
    this.fd = null;
  }
}
