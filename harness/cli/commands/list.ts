/** `pgdrill list`: the shipped scenarios, one line each. */
import { listScenarios } from "../../scenario/load.ts";
import type { CommandModule } from "../io.ts";

export const registerList: CommandModule = (program, { io }) => {
  program
    .command("list")
    .description("list the shipped scenarios")
    .action(async () => {
      const rows = await listScenarios();
      const width = Math.max(...rows.map((row) => row.name.length));
      const targetWidth = Math.max(...rows.map((row) => row.target.length));
      for (const row of rows) {
        const summary = row.description.split(/(?<=\.)\s/)[0];
        io.out(`${row.name.padEnd(width)}  ${row.target.padEnd(targetWidth)}  ${row.duration.padStart(4)}  ${summary}\n`);
      }
    });
};
