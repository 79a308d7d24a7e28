/**
 * A History as its readers (the checkers, the timeline) see it, in two parts so a drill of any
 * length is analysed in bounded memory:
 * - the context (context.ts): every event that is not a probe operation, held whole;
 * - the operations (operations.ts): each invoke paired with its complete, handed on one at a time
 *   in invoke order to readers that fold over them.
 * A streamed analysis (analyze.ts) builds both from the file; `splitHistory` does it for a History
 * held in memory.
 */
import { ContextBuilder, type HistoryContext } from "./context.ts";
import type { HistoryEvent } from "./events.ts";
import { isOperationEvent, OperationSequencer, type Operation } from "./operations.ts";

/** A History held in memory (tests, an interrupted analysis), split the way a streamed one is. */
export function splitHistory(events: readonly HistoryEvent[]): { context: HistoryContext; operations: Operation[] } {
  const builder = new ContextBuilder();
  const operations: Operation[] = [];
  // All of it is in memory anyway: hold everything, so the order is exact however the lines were.
  const sequencer = new OperationSequencer((operation) => operations.push(operation), { holdMs: Number.POSITIVE_INFINITY });
  for (const event of events) {
    builder.add(event);
    if (isOperationEvent(event)) sequencer.add(event);
  }
  sequencer.finish();
  return { context: builder.finish(), operations };
}
