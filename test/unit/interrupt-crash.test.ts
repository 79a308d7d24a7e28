import { describe, expect, it } from "vitest";
import { onInterrupt } from "../../harness/cli/interrupt.ts";
import type { CliIO } from "../../harness/cli/io.ts";

describe("an error nothing caught during a drill", () => {
  it("is a first interrupt: the drill's signal aborts (so it heals, tears down and writes its result), the process lives on", () => {
    const said: string[] = [];
    const io = { out: () => undefined, err: (text: string) => said.push(text) } as unknown as CliIO;
    const before = process.listeners("uncaughtException").length;
    const { signal, dispose } = onInterrupt(io, "stopping the drill");
    try {
      const ours = process.listeners("uncaughtException").slice(before);
      expect(ours).toHaveLength(1);
      ours[0]!(new Error("no node named \"every-node\""), "uncaughtException");
      expect(signal.aborted).toBe(true);
      expect(said.join("")).toContain('an error nothing caught (no node named "every-node"): stopping the drill');
    } finally {
      dispose();
    }
    expect(process.listeners("uncaughtException")).toHaveLength(before);
    expect(process.listeners("unhandledRejection").some((listener) => listener.name === "onCrash")).toBe(false);
  });
});
