/**
 * What a series of drills shares when asked to (`pgdrill run a b c --share-cluster`): a target
 * keeps here what is slow to make and safe to reuse, such as the cnpg target's kind cluster with
 * its operator, under a key saying what it is. Each drill still makes and removes its own objects
 * in it; the pool removes the shared ones once the series ends, on every path.
 */
import { errorMessage } from "../../errors.ts";
import type { SharedResources } from "../types.ts";

interface Held {
  value: Promise<unknown>;
  describe: string;
  remove?: () => Promise<void>;
}

export class SharedPool implements SharedResources {
  private readonly held = new Map<string, Held>();

  async use<T>(key: string, make: () => Promise<{ value: T; describe: string; remove: () => Promise<void> }>): Promise<T> {
    const found = this.held.get(key);
    if (found) return (await found.value) as T;
    const entry: Held = { value: Promise.resolve(undefined), describe: key };
    entry.value = make().then(
      (made) => {
        entry.describe = made.describe;
        entry.remove = made.remove;
        return made.value;
      },
      (error: unknown) => {
        // A failed make is not kept: the next drill tries again.
        this.held.delete(key);
        throw error;
      },
    );
    this.held.set(key, entry);
    return (await entry.value) as T;
  }

  /** What the pool holds now, for the log. */
  describe(): string[] {
    return [...this.held.values()].map((entry) => entry.describe);
  }

  /** Removes everything the pool made, newest first; returns what was removed and what could not be. */
  async release(): Promise<{ removed: string[]; failed: string[] }> {
    const removed: string[] = [];
    const failed: string[] = [];
    for (const [key, entry] of [...this.held.entries()].reverse()) {
      this.held.delete(key);
      const made = await entry.value.then(
        () => true,
        () => false,
      );
      if (!made || !entry.remove) continue;
      try {
        await entry.remove();
        removed.push(entry.describe);
      } catch (error) {
        failed.push(`${entry.describe}: ${errorMessage(error)}`);
      }
    }
    return { removed, failed };
  }
}
