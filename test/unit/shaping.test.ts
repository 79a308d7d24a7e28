/** The scripts behind network shaping (targets/shared/shaping.ts), and how applyShaping chooses between them. */
import { describe, expect, it } from "vitest";
import { HarnessError } from "../../harness/errors.ts";
import {
  DELAYER_PATH,
  SHAPE_QUEUE,
  applyShaping,
  delayerCommand,
  fallbackNeeds,
  netemArguments,
  nfqueueRules,
  nfqueueScript,
  removeScript,
  removeShaping,
  tbfArguments,
  type NodeShell,
} from "../../harness/targets/shared/shaping.ts";

const none = { delayMs: 0, jitterMs: 0, lossPercent: 0 };

describe("netem arguments", () => {
  it("carries delay, jitter, loss and rate, under pgdrill's own handle", () => {
    expect(netemArguments({ delayMs: 100, jitterMs: 10, lossPercent: 5, rateKbit: 1000 }, "eth1")).toBe(
      "tc qdisc replace dev eth1 root handle 5047: netem delay 100ms 10ms loss 5% rate 1000kbit",
    );
  });

  it("leaves out what the shaping does not use", () => {
    expect(netemArguments({ ...none, delayMs: 12.5 })).toBe("tc qdisc replace dev eth0 root handle 5047: netem delay 12.5ms");
    expect(netemArguments({ ...none, lossPercent: 100 })).toBe("tc qdisc replace dev eth0 root handle 5047: netem loss 100%");
  });
});

describe("nfqueue fallback", () => {
  it("drops at random before queueing, so a lost packet is never delayed", () => {
    const rules = nfqueueRules({ delayMs: 100, jitterMs: 0, lossPercent: 2.5 });
    expect(rules).toEqual([
      "iptables -w -A PGDRILL-SHAPE -o eth0 -m statistic --mode random --probability 0.025 -j DROP",
      `iptables -w -A PGDRILL-SHAPE -o eth0 -j NFQUEUE --queue-num ${SHAPE_QUEUE} --queue-bypass`,
    ]);
  });

  it("drops everything for 100% loss, and queues nothing without a delay", () => {
    expect(nfqueueRules({ ...none, lossPercent: 100 })).toEqual(["iptables -w -A PGDRILL-SHAPE -o eth0 -j DROP"]);
    expect(fallbackNeeds({ ...none, lossPercent: 100 })).toEqual({ tools: ["iptables"], delayer: false });
  });

  it("starts the delayer with the delay and jitter, behind a wrapper that always exits 0, and waits for its ready line", () => {
    const script = nfqueueScript({ delayMs: 100, jitterMs: 20, lossPercent: 0 });
    expect(delayerCommand({ delayMs: 100, jitterMs: 20, lossPercent: 0 })).toBe(
      `python3 ${DELAYER_PATH} --queue ${SHAPE_QUEUE} --delay-ms 100 --jitter-ms 20 --pidfile /run/pgdrill-shape/delayer.pid`,
    );
    expect(script).toContain(`setsid sh -c '${delayerCommand({ delayMs: 100, jitterMs: 20, lossPercent: 0 })}; exit 0'`);
    expect(script).toMatch(/until grep -qx ready \/run\/pgdrill-shape\/delayer\.log/);
    // The delayer is up before packets are sent to its queue.
    expect(script.indexOf("setsid")).toBeLessThan(script.indexOf("-j NFQUEUE"));
  });

  it("hooks its own chain at the end of OUTPUT, once", () => {
    const script = nfqueueScript({ delayMs: 50, jitterMs: 0, lossPercent: 0 });
    expect(script).toContain("iptables -w -N PGDRILL-SHAPE 2>/dev/null || true");
    expect(script).toContain("iptables -w -C OUTPUT -j PGDRILL-SHAPE 2>/dev/null || iptables -w -A OUTPUT -j PGDRILL-SHAPE");
    expect(script).not.toMatch(/-I OUTPUT|PGDRILL-IN|PGDRILL-OUT/);
  });

  it("caps the rate with tbf: a burst of at least one frame, 10 ms worth at high rates", () => {
    expect(tbfArguments(1000)).toBe("tc qdisc replace dev eth0 root handle 5047: tbf rate 1000kbit burst 1600 latency 1000ms");
    expect(tbfArguments(100_000)).toBe("tc qdisc replace dev eth0 root handle 5047: tbf rate 100000kbit burst 125000 latency 1000ms");
    const rateOnly = nfqueueScript({ ...none, rateKbit: 500 });
    expect(rateOnly).toContain("tbf rate 500kbit");
    expect(rateOnly).not.toContain("iptables");
    expect(rateOnly).not.toContain("python3");
  });
});

describe("removal", () => {
  const script = removeScript("eth0");

  it("flushes only PGDRILL-SHAPE", () => {
    expect(script).toContain("iptables -w -F PGDRILL-SHAPE");
    expect(script.match(/iptables -w -F \S+/g)).toEqual(["iptables -w -F PGDRILL-SHAPE"]);
    expect(script).not.toMatch(/-F (INPUT|OUTPUT|PGDRILL-IN|PGDRILL-OUT)\b|-F\s*$|-X/m);
  });

  it("stops the delayer by its pidfile, checking it is the delayer, with SIGTERM first", () => {
    expect(script).toContain("grep -q nfqueue-delay /proc/\"$pid\"/cmdline");
    expect(script.indexOf("kill -TERM")).toBeLessThan(script.indexOf("kill -KILL"));
    // Rules go before the delayer, so nothing is queued after it let go.
    expect(script.indexOf("-F PGDRILL-SHAPE")).toBeLessThan(script.indexOf("kill -TERM"));
  });

  it("deletes the root qdisc only when it carries pgdrill's handle", () => {
    expect(script).toContain('tc qdisc show dev eth0 root 2>/dev/null | grep -q " 5047: "');
    expect(script).toContain("tc qdisc del dev eth0 root");
    expect(script.trim().endsWith("exit 0")).toBe(true);
  });
});

/** A node that records the scripts it runs and answers each with the first matching reply. */
function fakeShell(replies: Array<[RegExp, { exitCode: number; output: string }]>, withCopy = true): NodeShell & { scripts: string[]; copies: string[] } {
  const scripts: string[] = [];
  const copies: string[] = [];
  return {
    name: "primary",
    scripts,
    copies,
    async run(script) {
      scripts.push(script);
      return replies.find(([pattern]) => pattern.test(script))?.[1] ?? { exitCode: 0, output: "" };
    },
    ...(withCopy ? { copy: async (_content: string, path: string) => void copies.push(path) } : {}),
  };
}

const unknownQdisc = { exitCode: 2, output: "Error: Specified qdisc kind is unknown.\n" };
const allTools = { exitCode: 0, output: "iptables=yes\npython3=yes\ntc=yes\n" };

describe("applyShaping", () => {
  it("uses netem where the kernel has it, after removing what was there", async () => {
    const shell = fakeShell([]);
    await expect(applyShaping(shell, { delayMs: 100, jitterMs: 0, lossPercent: 0 })).resolves.toBe("netem");
    expect(shell.scripts[0]).toContain("-F PGDRILL-SHAPE");
    expect(shell.scripts[1]).toContain("netem delay 100ms");
    expect(shell.copies).toEqual([]);
  });

  it("falls back to nfqueue when netem is unknown, copying the delayer in", async () => {
    const shell = fakeShell([
      [/netem/, unknownQdisc],
      [/command -v python3/, allTools],
    ]);
    await expect(applyShaping(shell, { delayMs: 100, jitterMs: 10, lossPercent: 1 })).resolves.toBe("nfqueue");
    expect(shell.copies).toEqual([DELAYER_PATH]);
    expect(shell.scripts.at(-1)).toContain("-j NFQUEUE");
  });

  it("names the node and the fix when neither mechanism is possible", async () => {
    const noPython = fakeShell([
      [/netem/, unknownQdisc],
      [/command -v python3/, { exitCode: 0, output: "iptables=yes\npython3=no\ntc=yes\n" }],
    ]);
    const error = await applyShaping(noPython, { delayMs: 100, jitterMs: 0, lossPercent: 0 }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(HarnessError);
    expect((error as Error).message).toMatch(/^primary: .*no netem qdisc.*no python3.*build-local-image\.sh.*CONFIG_NET_SCH_NETEM/);

    const noCopy = fakeShell([[/netem/, unknownQdisc], [/command -v python3/, allTools]], false);
    await expect(applyShaping(noCopy, { delayMs: 100, jitterMs: 0, lossPercent: 0 })).rejects.toThrow(/primary: .*cannot copy its packet delayer/);
  });

  it("says why a node without a delayer (a kind node) cannot delay, and that loss and rate still work", async () => {
    const kindNode = { ...fakeShell([[/netem/, unknownQdisc], [/command -v python3/, allTools]], false), noDelayer: "kind nodes have no python3 for pgdrill's packet delayer" };
    const error = await applyShaping(kindNode, { delayMs: 100, jitterMs: 0, lossPercent: 0 }).catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(/^primary: cannot delay the network on eth0: .*no netem qdisc.*kind nodes have no python3.*CONFIG_NET_SCH_NETEM.*drop delay and jitter/);
    expect((error as Error).message).not.toMatch(/build-local-image/);
    // Loss alone needs no delayer: the same node gets the fallback's iptables rule.
    await expect(applyShaping(kindNode, { delayMs: 0, jitterMs: 0, lossPercent: 5 })).resolves.toBe("nfqueue");
  });

  it("removes what it began when the fallback fails, and says why", async () => {
    const shell = fakeShell([
      [/netem/, unknownQdisc],
      [/command -v python3/, allTools],
      [/NFQUEUE/, { exitCode: 66, output: "not ready after 0 s: nfqueue-delay: [Errno 16] Device or resource busy" }],
    ]);
    await expect(applyShaping(shell, { delayMs: 100, jitterMs: 0, lossPercent: 0 })).rejects.toThrow(/primary: pgdrill's packet delayer .* did not start: .*busy/);
    expect(shell.scripts.at(-1)).toContain("-F PGDRILL-SHAPE");
  });

  it("refuses to replace a root qdisc someone else added", async () => {
    const shell = fakeShell([[/netem/, { exitCode: 65, output: "qdisc htb 1: root refcnt 2 r2q 10 default 0" }]]);
    await expect(applyShaping(shell, { delayMs: 10, jitterMs: 0, lossPercent: 0 })).rejects.toThrow(/eth0 already has a root qdisc pgdrill did not add \(qdisc htb 1:/);
  });

  it("refuses values outside their range, and a shaping that does nothing", async () => {
    const shell = fakeShell([]);
    await expect(applyShaping(shell, { ...none, lossPercent: 150 })).rejects.toThrow("shaping.lossPercent must be between 0 and 100, got 150");
    await expect(applyShaping(shell, none)).rejects.toThrow(/does nothing/);
    await expect(applyShaping(shell, { ...none, delayMs: 5 }, { device: "eth0; reboot" })).rejects.toThrow(/not a network device name/);
    expect(shell.scripts).toEqual([]);
  });

  it("removes in one script that always succeeds when nothing was applied", async () => {
    const shell = fakeShell([]);
    await removeShaping(shell, { device: "eth1" });
    expect(shell.scripts).toEqual([removeScript("eth1")]);
  });
});
