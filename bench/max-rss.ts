/**
 * Preloaded (`node --import`) into a process whose peak memory we want: on exit it writes its
 * max RSS (KiB, from getrusage) to $PGDRILL_BENCH_RSS_FILE. Works whatever the process does, as
 * long as it exits through Node (process.exit or the event loop draining).
 */
import { writeFileSync } from "node:fs";

const file = process.env.PGDRILL_BENCH_RSS_FILE;
if (file) process.on("exit", () => writeFileSync(file, String(process.resourceUsage().maxRSS)));
