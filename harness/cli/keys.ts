/**
 * The keyboard of the terminal running a drill (`pgdrill run`, `pgdrill watch`), in raw mode:
 *
 *   m        start a mark: type a short note, Enter records it (Esc cancels). The mark's moment is
 *            when `m` was pressed, not when the note was finished.
 *   Enter    confirm the manual step that is waiting (schedule/manual.ts)
 *   n        the manual step that is waiting could not be done: type why, Enter records it (Esc
 *            cancels). It answers the step shown when `n` was pressed, and no other.
 *   ?        say what the keys do
 *   Ctrl-C   as ever: the CLI's interrupt (raw mode turns it into a key, so it is sent on as SIGINT)
 *
 * Only when stdin is a terminal; elsewhere `pgdrill mark` and `pgdrill confirm` do the same.
 */
import type { ConfirmMode, ManualPrompt, OperatorDesk, OperatorInput } from "../operator/desk.ts";
import { MAX_NOTE_CHARS } from "../operator/requests.ts";

export interface KeyboardView {
  log(line: string): void;
  /** A line under the live view's status (cli/live.ts); a view without one only gets the log lines. */
  setPrompt?(text: string | null): void;
}

export interface KeyboardOptions {
  stdin?: NodeJS.ReadStream;
  view: KeyboardView;
  /** What Ctrl-C does (default: SIGINT to this process, which the CLI's interrupt handler takes). */
  interrupt?: () => void;
}

/** Whether there is a terminal to read keys from. */
export function interactiveStdin(stdin: NodeJS.ReadStream = process.stdin): boolean {
  return Boolean(stdin.isTTY) && typeof stdin.setRawMode === "function";
}

export const KEYS_HELP =
  "keys: m mark a moment (type a note, Enter) · Enter confirm a manual step · " +
  "n it cannot be done (type why, Enter) · ? help · Ctrl-C stop";

export class Keyboard implements OperatorInput {
  private readonly stdin: NodeJS.ReadStream;
  private readonly view: KeyboardView;
  private readonly interrupt: () => void;
  /** A note being typed: a mark's (taken at `t`), or why the manual step `step` was not done. */
  private typing: { kind: "mark"; t: number; text: string } | { kind: "not-done"; step: string; text: string } | null = null;
  private prompt: ManualPrompt | null = null;
  private desk: OperatorDesk | null = null;
  /** Inside an escape sequence (arrow keys and the like): skipped to its final byte. */
  private escape: "none" | "start" | "csi" = "none";

  constructor(options: KeyboardOptions) {
    this.stdin = options.stdin ?? process.stdin;
    this.view = options.view;
    this.interrupt = options.interrupt ?? (() => process.kill(process.pid, "SIGINT"));
  }

  attach(desk: OperatorDesk): () => void {
    this.desk = desk;
    const wasRaw = this.stdin.isRaw;
    this.stdin.setRawMode(true);
    this.stdin.setEncoding("utf8");
    this.stdin.on("data", this.onData);
    this.stdin.resume();
    const offPrompt = desk.onPrompt((prompt) => {
      this.prompt = prompt;
      this.show();
    });
    this.view.log(KEYS_HELP);
    return () => {
      offPrompt();
      this.stdin.off("data", this.onData);
      this.stdin.setRawMode(wasRaw);
      this.stdin.pause();
      this.view.setPrompt?.(null);
      this.desk = null;
    };
  }

  /** Exposed for tests: what the terminal sent. */
  onData = (chunk: string | Buffer): void => {
    for (const key of String(chunk)) this.key(key);
  };

  private key(key: string): void {
    const desk = this.desk;
    if (!desk) return;
    if (key === "\u0003") {
      this.typing = null;
      this.show();
      this.interrupt();
      return;
    }
    if (this.skipEscape(key)) return;
    if (this.typing) {
      if (key === "\r" || key === "\n") {
        const typing = this.typing;
        if (typing.kind === "not-done") {
          // A reason is needed: an empty Enter keeps the prompt (Esc cancels).
          if (!typing.text.trim()) return this.view.log(`say why ${typing.step} could not be done, then Enter (Esc cancels)`);
          this.typing = null;
          const answered = desk.answer({ by: "keyboard", done: false, reason: typing.text }, typing.step);
          if (!("prompt" in answered)) this.view.log(`not recorded: ${answered.problem} (press m to mark it instead)`);
          this.show();
          return;
        }
        this.typing = null;
        if (typing.text.trim()) desk.mark(typing.text, "keyboard", typing.t);
        else this.view.log("mark: empty, not recorded");
        this.show();
      } else if (key === "\u007f" || key === "\b") {
        this.typing.text = this.typing.text.slice(0, -1);
        this.show();
      } else if (key === "\u0015") {
        this.typing.text = "";
        this.show();
      } else if (key >= " " && this.typing.text.length < MAX_NOTE_CHARS) {
        this.typing.text += key;
        this.show();
      }
      return;
    }
    if (key === "m" || key === "M") {
      this.typing = { kind: "mark", t: desk.now(), text: "" };
      this.show();
    } else if (key === "n" || key === "N") {
      if (desk.mode !== "ask") this.view.log("this run's manual steps are answered with `pgdrill confirm`");
      else if (!this.prompt) this.view.log("no manual step is waiting (n records one that cannot be done; m marks a moment)");
      else {
        this.typing = { kind: "not-done", step: this.prompt.id, text: "" };
        this.show();
      }
    } else if (key === "\r" || key === "\n") {
      if (!desk.confirm("keyboard")) {
        this.view.log(
          this.prompt
            ? "this run's manual steps are confirmed with `pgdrill confirm`"
            : "no manual step is waiting (press m to mark a moment)",
        );
      }
    } else if (key === "?" || key === "h") {
      this.view.log(KEYS_HELP);
    }
  }

  /** Esc alone cancels a mark being typed; an escape sequence (ESC [ ... final) is skipped. */
  private skipEscape(key: string): boolean {
    if (this.escape === "start") {
      if (key === "[" || key === "O") {
        this.escape = "csi";
        return true;
      }
      this.escape = "none";
      // ESC then a plain key: the ESC alone was the cancel; the key is taken as it is.
    } else if (this.escape === "csi") {
      if (key >= "@" && key <= "~") this.escape = "none";
      return true;
    }
    if (key === "\u001b") {
      this.escape = "start";
      if (this.typing) {
        this.view.log(this.typing.kind === "mark" ? "mark cancelled" : "not done: cancelled, the step still waits");
        this.typing = null;
        this.show();
      }
      return true;
    }
    return false;
  }

  private show(): void {
    if (this.typing?.kind === "mark") {
      this.view.setPrompt?.(`mark> ${this.typing.text}\u2588  (Enter records it, Esc cancels)`);
    } else if (this.typing) {
      this.view.setPrompt?.(`${this.typing.step} not done, because> ${this.typing.text}\u2588  (Enter records it, Esc cancels)`);
    } else if (this.prompt) {
      this.view.setPrompt?.(`>>> MANUAL STEP ${this.prompt.id}: ${this.prompt.say}\n    press Enter when done, n if it cannot be done`);
    } else {
      this.view.setPrompt?.(null);
    }
  }
}

/** How `run` and `watch` confirm manual steps: the flag's value, else "ask" in a terminal (and refused outside one). */
export function confirmModeFor(flag: ConfirmMode | undefined): ConfirmMode {
  return flag ?? "ask";
}
