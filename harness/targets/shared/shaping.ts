/**
 * Network shaping on one node's outbound traffic: delay, jitter, loss and a rate cap, applied in
 * the node's network namespace and removed by one idempotent call. The mechanism is the netem
 * qdisc where the kernel has it. Where it does not (CONFIG_NET_SCH_NETEM unset, as on pgdrill's
 * CI machines), the same effect is built from what such kernels do have:
 *
 * - loss: an iptables `statistic` match that drops at random;
 * - delay and jitter: `-j NFQUEUE --queue-bypass` plus a small userspace delayer
 *   (nfqueue-delay.py) that accepts each packet once its delay is over, in arrival order;
 * - rate: the tbf qdisc.
 *
 * As with network cuts (iptables.ts), pgdrill's rules live in a chain of its own and its qdisc
 * carries a handle of its own, so removal never touches anyone else's.
 */
import { readFileSync } from "node:fs";
import { HarnessError } from "../../errors.ts";
import { NETEM_LIMITS } from "../../fault/kinds/netem.ts";
import type { Shaping } from "../controls.ts";

/** What runs commands as root in the node's network namespace, and (optionally) copies a file into it. */
export interface NodeShell {
  /** The node's name, for messages. */
  name: string;
  /** Runs a POSIX shell script as root; never throws for a non-zero exit. */
  run(script: string): Promise<{ exitCode: number; output: string }>;
  /** Writes `content` to `path` in the node (parent folders created). Needed for the nfqueue delayer. */
  copy?(content: string, path: string): Promise<void>;
  /** Why the node has no `copy` (so no delayer), said when a delay needs one: e.g. kind nodes have no python3. */
  noDelayer?: string;
}

export type ShapingMechanism = "netem" | "nfqueue";

/** How a shaping was applied, in words for the History (the netem fault's output). */
export function describeMechanism(mechanism: ShapingMechanism): string {
  return mechanism === "netem" ? "applied with tc netem" : "applied with pgdrill's NFQUEUE delayer (this kernel has no netem qdisc)";
}

export interface ShapingOptions {
  /** The node's interface to shape; default eth0. */
  device?: string | undefined;
  /** Only this mechanism (e.g. to test the fallback on a kernel with netem); default: netem, else nfqueue. */
  mechanism?: ShapingMechanism | undefined;
}

export const SHAPE_CHAIN = "PGDRILL-SHAPE";
/** Queue numbers are per network namespace; this one is only pgdrill's inside the node. */
export const SHAPE_QUEUE = 4742;
/** The handle pgdrill's root qdisc carries ("PG" in hex), so removal deletes only its own. */
export const SHAPE_QDISC_HANDLE = "5047:";
export const DELAYER_PATH = "/usr/local/lib/pgdrill/nfqueue-delay.py";
const STATE_DIR = "/run/pgdrill-shape";
export const DELAYER_PIDFILE = `${STATE_DIR}/delayer.pid`;
const DELAYER_LOG = `${STATE_DIR}/delayer.log`;
const DEFAULT_DEVICE = "eth0";

/** The scripts' own exit codes, told apart from the tools' (tc and iptables exit 1 or 2). */
const EXIT = { noDevice: 64, foreignQdisc: 65, delayerNotReady: 66, missingTool: 127 } as const;

export async function applyShaping(shell: NodeShell, shaping: Shaping, options: ShapingOptions = {}): Promise<ShapingMechanism> {
  checkShaping(shaping);
  const device = checkDevice(options.device ?? DEFAULT_DEVICE);
  // Replace, never stack: a second apply starts from nothing, so its delay is not added to the first's.
  await removeShaping(shell, { device });
  if (options.mechanism === "nfqueue") {
    await applyFallback(shell, shaping, device, "netem was not asked for (mechanism: nfqueue)");
    return "nfqueue";
  }

  const netem = await shell.run(netemScript(shaping, device));
  if (netem.exitCode === 0) return "netem";
  failOnScriptError(shell.name, device, netem);
  const netemMissing = netem.exitCode === EXIT.missingTool || isUnknownQdisc(netem.output);
  if (!netemMissing || options.mechanism === "netem") {
    throw new HarnessError(`${shell.name}: tc could not add netem on ${device} (exit ${netem.exitCode}): ${netem.output.trim()}`);
  }

  const whyNotNetem =
    netem.exitCode === EXIT.missingTool
      ? "tc is not installed, so netem cannot be used"
      : `the kernel has no netem qdisc (tc: ${netem.output.trim()})`;
  await applyFallback(shell, shaping, device, whyNotNetem);
  return "nfqueue";
}

/** Removes what applyShaping added (either mechanism); safe to call any number of times. */
export async function removeShaping(shell: NodeShell, options: ShapingOptions = {}): Promise<void> {
  const device = checkDevice(options.device ?? DEFAULT_DEVICE);
  const result = await shell.run(removeScript(device));
  if (result.exitCode !== 0)
    throw new HarnessError(
      `${shell.name}: removing network shaping from ${device} failed (exit ${result.exitCode}): ${result.output.trim()}`,
    );
}

async function applyFallback(shell: NodeShell, shaping: Shaping, device: string, whyNotNetem: string): Promise<void> {
  const needs = fallbackNeeds(shaping);
  if (needs.delayer && !shell.copy && shell.noDelayer !== undefined) {
    // Said before the tools check: its "use pgdrill's image" fix does not apply to such a node.
    throw new HarnessError(
      `${shell.name}: cannot delay the network on ${device}: ${whyNotNetem}, and ${shell.noDelayer}. ` +
        ("Run on a kernel with netem (CONFIG_NET_SCH_NETEM; GitHub's runners have it), or drop delay and jitter (loss and " +
          "rate work without netem)."),
    );
  }
  const tools = await shell.run(toolsScript());
  const missing = needs.tools.filter((tool) => !new RegExp(`^${tool}=yes$`, "m").test(tools.output));
  const cannot = (what: string, fix: string) =>
    new HarnessError(
      `${shell.name}: cannot shape the network on ${device}: ${whyNotNetem}, and ${what} for pgdrill's nfqueue fallback. ` +
        `${fix}, or run on a kernel with netem (CONFIG_NET_SCH_NETEM).`,
    );
  if (missing.length > 0) {
    throw cannot(
      `the node's image has no ${missing.join(" or ")}`,
      "Use pgdrill's local image (bash fixtures/image/build-local-image.sh) or one with iproute2, iptables and python3",
    );
  }
  if (needs.delayer) {
    if (!shell.copy)
      throw cannot(
        "pgdrill cannot copy its packet delayer into the node (its NodeShell has no copy)",
        "Give the node's NodeShell a copy function",
      );
    await shell.copy(delayerSource(), DELAYER_PATH);
  }
  const result = await shell.run(nfqueueScript(shaping, device));
  if (result.exitCode === 0) return;
  // Leave nothing half-applied behind.
  await removeShaping(shell, { device }).catch(() => undefined);
  failOnScriptError(shell.name, device, result);
  if (result.exitCode === EXIT.delayerNotReady) {
    throw new HarnessError(`${shell.name}: pgdrill's packet delayer (${DELAYER_PATH}) did not start: ${result.output.trim()}`);
  }
  if (/NFQUEUE|statistic|No chain\/target\/match/i.test(result.output)) {
    throw cannot(
      `iptables refused the NFQUEUE or statistic rule (${result.output.trim()})`,
      "Use a kernel with CONFIG_NETFILTER_XT_TARGET_NFQUEUE and CONFIG_NETFILTER_XT_MATCH_STATISTIC",
    );
  }
  throw new HarnessError(`${shell.name}: the nfqueue shaping of ${device} failed (exit ${result.exitCode}): ${result.output.trim()}`);
}

function failOnScriptError(node: string, device: string, result: { exitCode: number; output: string }): void {
  if (result.exitCode === EXIT.noDevice)
    throw new HarnessError(`${node}: there is no network device ${device} in the node; name one that exists with the device option`);
  if (result.exitCode === EXIT.foreignQdisc) {
    throw new HarnessError(
      `${node}: ${device} already has a root qdisc pgdrill did not add (${result.output.trim()}); pgdrill will not replace ` +
        `it. Remove it first`,
    );
  }
}

function isUnknownQdisc(output: string): boolean {
  // iproute2 with extended acks says the first; older ones only relay the kernel's ENOENT.
  return /qdisc kind is unknown|RTNETLINK answers: No such file or directory/i.test(output);
}

/** What the fallback needs for this shaping: which tools, and whether the delayer runs. */
export function fallbackNeeds(shaping: Shaping): { tools: string[]; delayer: boolean } {
  const delayer = shaping.delayMs > 0 || shaping.jitterMs > 0;
  const tools = [
    ...(delayer || shaping.lossPercent > 0 ? ["iptables"] : []),
    ...(delayer ? ["python3"] : []),
    ...(shaping.rateKbit !== undefined ? ["tc"] : []),
  ];
  return { tools, delayer };
}

function checkShaping(shaping: Shaping): void {
  const within = (field: keyof Shaping, value: number, min: number, max: number) => {
    if (!Number.isFinite(value) || value < min || value > max)
      throw new RangeError(`shaping.${field} must be between ${min} and ${max}, got ${value}`);
  };
  // The scenario's netem schema refuses the same, with a fix; this is the backstop for other callers.
  within("delayMs", shaping.delayMs, 0, NETEM_LIMITS.maxDelayMs);
  within("jitterMs", shaping.jitterMs, 0, NETEM_LIMITS.maxDelayMs);
  within("lossPercent", shaping.lossPercent, 0, 100);
  if (shaping.rateKbit !== undefined) within("rateKbit", shaping.rateKbit, 1, NETEM_LIMITS.maxRateKbit);
  if (shaping.delayMs === 0 && shaping.jitterMs === 0 && shaping.lossPercent === 0 && shaping.rateKbit === undefined) {
    throw new RangeError("shaping does nothing: give a delay, jitter, loss or rate");
  }
}

function checkDevice(device: string): string {
  // It goes into shell scripts: only what Linux interface names are made of.
  if (!/^[A-Za-z0-9_.:-]{1,15}$/.test(device)) throw new RangeError(`not a network device name: ${JSON.stringify(device)}`);
  return device;
}

let delayerText: string | null = null;
/** Read when first needed, so a package that lacks the file fails only the fallback, with its path. */
function delayerSource(): string {
  delayerText ??= readFileSync(new URL("./nfqueue-delay.py", import.meta.url), "utf8");
  return delayerText;
}

/** A number as tc and the delayer read it: no exponent, no trailing zeros. */
function plain(value: number): string {
  return String(Number(value.toFixed(3)));
}

const deviceExists = (device: string) => `[ -e /sys/class/net/${device} ] || { echo "no device ${device}"; exit ${EXIT.noDevice}; }`;

/** Refuses a root qdisc someone else added; the kernel's default (handle 0:) and pgdrill's own may go. */
const rootQdiscIsOurs = (device: string) =>
  [
    `root=$(tc qdisc show dev ${device} root | head -n 1)`,
    `case "$root" in "" | "qdisc "*" 0: "* | "qdisc "*" ${SHAPE_QDISC_HANDLE} "*) ;; *) echo "$root"; exit ${EXIT.foreignQdisc} ;; esac`,
  ].join("\n");

/** `tc qdisc replace ... netem` with only the parts this shaping uses. */
export function netemArguments(shaping: Shaping, device: string = DEFAULT_DEVICE): string {
  const parts = [`tc qdisc replace dev ${device} root handle ${SHAPE_QDISC_HANDLE} netem`];
  if (shaping.delayMs > 0 || shaping.jitterMs > 0) {
    parts.push(`delay ${plain(shaping.delayMs)}ms`);
    if (shaping.jitterMs > 0) parts.push(`${plain(shaping.jitterMs)}ms`);
  }
  if (shaping.lossPercent > 0) parts.push(`loss ${plain(shaping.lossPercent)}%`);
  if (shaping.rateKbit !== undefined) parts.push(`rate ${plain(shaping.rateKbit)}kbit`);
  return parts.join(" ");
}

export function netemScript(shaping: Shaping, device: string = DEFAULT_DEVICE): string {
  return [
    `command -v tc >/dev/null || { echo "tc is not installed"; exit ${EXIT.missingTool}; }`,
    deviceExists(device),
    rootQdiscIsOurs(device),
    `${netemArguments(shaping, device)} 2>&1`,
  ].join("\n");
}

/** Prints tool=yes|no for each tool the fallback may need. */
export function toolsScript(): string {
  return ["iptables", "python3", "tc"].map((tool) => `command -v ${tool} >/dev/null && echo ${tool}=yes || echo ${tool}=no`).join("\n");
}

/** tbf with a burst of 10 ms at the rate (at least one full frame) that queues up to a second's worth. */
export function tbfArguments(rateKbit: number, device: string = DEFAULT_DEVICE): string {
  const burstBytes = Math.max(1600, Math.ceil((rateKbit * 1000) / 8 / 100));
  return (
    `tc qdisc replace dev ${device} root handle ${SHAPE_QDISC_HANDLE} tbf rate ${plain(rateKbit)}kbit burst ${burstBytes} ` +
    `latency 1000ms`
  );
}

/** The iptables rules of the fallback, in order: loss first, so a dropped packet is never queued. */
export function nfqueueRules(shaping: Shaping, device: string = DEFAULT_DEVICE): string[] {
  const rules: string[] = [];
  if (shaping.lossPercent >= 100) rules.push(`iptables -w -A ${SHAPE_CHAIN} -o ${device} -j DROP`);
  else if (shaping.lossPercent > 0) {
    const probability = Number((shaping.lossPercent / 100).toFixed(6));
    rules.push(`iptables -w -A ${SHAPE_CHAIN} -o ${device} -m statistic --mode random --probability ${probability} -j DROP`);
  }
  // --queue-bypass: with no delayer bound to the queue (it died), packets pass, the safe direction.
  if (fallbackNeeds(shaping).delayer)
    rules.push(`iptables -w -A ${SHAPE_CHAIN} -o ${device} -j NFQUEUE --queue-num ${SHAPE_QUEUE} --queue-bypass`);
  return rules;
}

export function delayerCommand(shaping: Shaping): string {
  return (
    `python3 ${DELAYER_PATH} --queue ${SHAPE_QUEUE} --delay-ms ${plain(shaping.delayMs)} --jitter-ms ${plain(shaping.jitterMs)}` +
    ` --pidfile ${DELAYER_PIDFILE}`
  );
}

export function nfqueueScript(shaping: Shaping, device: string = DEFAULT_DEVICE): string {
  const lines = ["set -e", deviceExists(device)];
  if (shaping.rateKbit !== undefined) lines.push(rootQdiscIsOurs(device));
  if (fallbackNeeds(shaping).delayer) {
    lines.push(
      `mkdir -p ${STATE_DIR}`,
      // Emptied here, not by the background shell's redirect: that may open it only after the wait
      // below has read the previous delayer's "ready" (a second apply then returned at once, its
      // delayer not bound: no delay at all, seen under load in CI).
      `: > ${DELAYER_LOG}`,
      // The wrapper shell outlives the delayer and always exits 0. Started from `docker exec`, it
      // is reparented to the container's PID 1, and when that is the postmaster, a child that dies
      // by a signal (SIGKILL, the OOM killer) counts as a crashed backend: PostgreSQL would restart
      // every session. The wrapper takes that death instead.
      `setsid sh -c '${delayerCommand(shaping)}; exit 0' >${DELAYER_LOG} 2>&1 </dev/null &`,
      "tries=0",
      `until grep -qx ready ${DELAYER_LOG}; do`,
      `  tries=$((tries + 1))`,
      `  if [ "$tries" -gt 100 ] || ! kill -0 $! 2>/dev/null; then echo "not ready after $((tries / 20)) s: $(cat ` +
        `${DELAYER_LOG})"; exit ${EXIT.delayerNotReady}; fi`,
      "  sleep 0.05",
      "done",
    );
  }
  const rules = nfqueueRules(shaping, device);
  if (rules.length > 0) {
    lines.push(
      `iptables -w -N ${SHAPE_CHAIN} 2>/dev/null || true`,
      // Appended, not inserted: a queued packet that the delayer accepts skips the rest of OUTPUT,
      // so the network cuts' chain (inserted first by iptables.ts) must come before this one.
      `iptables -w -C OUTPUT -j ${SHAPE_CHAIN} 2>/dev/null || iptables -w -A OUTPUT -j ${SHAPE_CHAIN}`,
      ...rules,
    );
  }
  if (shaping.rateKbit !== undefined) lines.push(tbfArguments(shaping.rateKbit, device));
  // set -e stops at the first failure; the tools' messages go to the output the caller reads.
  return lines.join("\n") + "\n";
}

/**
 * Undoes both mechanisms. Rules go first, so nothing more is queued; then the delayer, which lets
 * what it holds go before it unbinds; then pgdrill's root qdisc (the kernel's default returns).
 */
export function removeScript(device: string = DEFAULT_DEVICE): string {
  return [
    `command -v iptables >/dev/null && iptables -w -F ${SHAPE_CHAIN} 2>/dev/null || true`,
    `if [ -f ${DELAYER_PIDFILE} ]; then`,
    `  pid=$(cat ${DELAYER_PIDFILE})`,
    // Only a process that is the delayer: a stale pidfile's pid may belong to anyone by now.
    `  if grep -q nfqueue-delay /proc/"$pid"/cmdline 2>/dev/null; then`,
    `    kill -TERM "$pid" 2>/dev/null || true`,
    `    tries=0`,
    `    while [ -d /proc/"$pid" ] && [ "$tries" -lt 40 ]; do tries=$((tries + 1)); sleep 0.05; done`,
    // Safe even for a postmaster PID 1: the wrapper shell reaps it and exits 0.
    `    [ -d /proc/"$pid" ] && kill -KILL "$pid" 2>/dev/null || true`,
    "  fi",
    `  rm -f ${DELAYER_PIDFILE}`,
    "fi",
    `if command -v tc >/dev/null && tc qdisc show dev ${device} root 2>/dev/null | grep -q " ${SHAPE_QDISC_HANDLE} "; then`,
    `  tc qdisc del dev ${device} root`,
    "fi",
    "exit 0",
  ].join("\n");
}
