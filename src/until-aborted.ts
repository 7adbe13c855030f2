/**
 * `work`'s outcome, or `aborted` as soon as `signal` aborts, whichever comes first (at
 * once when it has aborted already). It listens to `signal` only until `work` settles:
 * racing thousands of promises one after the other against one signal leaves nothing
 * behind, where `Promise.race` with a promise of the signal would keep a reaction on it
 * for each of them.
 */
export function untilAborted<T, A>(
  work: Promise<T>,
  signal: AbortSignal,
  aborted: A,
): Promise<T | A> {
  if (signal.aborted) return Promise.resolve(aborted);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      resolve(aborted);
    };
    signal.addEventListener("abort", onAbort, { once: true });
    work.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}
