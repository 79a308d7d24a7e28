/**
 * The first SIGINT or SIGTERM asks the command to stop cleanly (its signal aborts); a second one
 * exits at once, leaving whatever is left to `pgdrill reap`. The launcher's death (cli/parent-watch.ts)
 * is a first interrupt too; as nobody is left to press Ctrl-C again, the process then exits by
 * itself if the clean stop has not ended within ORPHAN_EXIT_MS. An exception nothing caught (a bug in
 * pgdrill, thrown from an event handler) is a first interrupt too: the drill still heals what it did,
 * removes what it started and writes what it recorded, rather than dying with containers left behind.
 */
import { EXIT, errorMessage } from "../errors.ts";
import type { CliIO } from "./io.ts";
import { onLauncherGone } from "./parent-watch.ts";

/** How long a drill whose launcher died may take to heal, tear down and write its result. */
const ORPHAN_EXIT_MS = 120_000;

export function onInterrupt(io: CliIO, what: string): { signal: AbortSignal; dispose: () => void } {
  const controller = new AbortController();
  let interrupts = 0;
  const interrupt = (cause: string, after = "press Ctrl-C again to exit at once") => {
    interrupts += 1;
    if (interrupts === 1) {
      io.err(`\npgdrill: ${cause}: ${what} (${after})\n`);
      controller.abort(new Error(`interrupted: ${cause}`));
    } else {
      io.err("pgdrill: exiting without cleaning up; `pgdrill reap` removes what was left\n");
      process.exit(130);
    }
  };
  const onSignal = (signal: NodeJS.Signals) => interrupt(signal);
  const onCrash = (error: unknown) => interrupt(`an error nothing caught (${errorMessage(error)})`);
  const stopWatching = onLauncherGone((pid) => {
    interrupt(`the pgdrill launcher (pid ${pid}) is gone`, `exiting within ${ORPHAN_EXIT_MS / 1000} s in any case`);
    setTimeout(() => {
      const after = `${ORPHAN_EXIT_MS / 1000} s after the launcher went`;
      io.err(`pgdrill: still stopping ${after}; exiting, \`pgdrill reap\` removes what was left\n`);
      process.exit(EXIT.errored);
    }, ORPHAN_EXIT_MS).unref();
  });
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  process.on("uncaughtException", onCrash);
  process.on("unhandledRejection", onCrash);
  return {
    signal: controller.signal,
    dispose: () => {
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      process.off("uncaughtException", onCrash);
      process.off("unhandledRejection", onCrash);
      stopWatching();
    },
  };
}
