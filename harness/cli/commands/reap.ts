/** `pgdrill reap`: removes what killed runs left behind, by pgdrill's labels and names only. */
import type { CommandModule } from "../io.ts";

export const registerReap: CommandModule = (program, { io }) => {
  program
    .command("reap")
    .description(
      "remove what killed pgdrill runs left behind: containers and networks (by pgdrill's labels only) and kind clusters named pgdrill-…",
    )
    .option("--all", "remove every pgdrill container, network and kind cluster, also those of runs still going")
    .action(async (options: { all?: boolean }) => {
      // Loaded here, not at the top: testcontainers takes ~0.5 s to import, and `report` never needs it.
      const { reapLeftovers } = await import("../../targets/index.ts");
      const removed = await reapLeftovers({ all: Boolean(options.all) });
      io.out(removed.length > 0 ? `removed ${removed.join(", ")}\n` : "nothing to remove\n");
    });
};
