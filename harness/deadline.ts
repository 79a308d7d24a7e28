/**
 * A promise bounded in time: what runs a step (the schedule's runner, the restore action) must not
 * wait forever on one call. The work is not cancelled; the caller stops waiting and says what overran.
 */
export async function withTimeout<T>(work: Promise<T>, what: string, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms / 1000} s`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
