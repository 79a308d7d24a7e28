/** Waiting in tests that drive the fake Kubernetes API: a sleep, and a poll until a condition holds (every 20 ms, 5 s by default). */
export function sleep(ms: number): Promise<void> {
  // A deadline already past waits no time (Node warns on a negative timeout).
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
}

export async function waitFor(predicate: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await sleep(20);
  }
}
