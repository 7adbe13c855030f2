import { open } from "node:fs/promises";

/** A sync of one directory that has not started yet: every caller that joins it waits for it. */
interface WaitingSync {
  readonly promise: Promise<void>;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

interface DirectoryState {
  running: boolean;
  waiting: WaitingSync | undefined;
}

/**
 * Group commit of directories [V-GROUP]: makes new names in a directory durable with one
 * fsync for all the names made while the previous fsync of that directory ran, instead of
 * one fsync per name. A caller's name is durable once its {@link sync} resolves: a sync
 * that was already running when the name was made may not cover it, so the caller waits
 * for the next one, which every caller arriving meanwhile shares.
 */
export class DirectorySync {
  readonly #directories = new Map<string, DirectoryState>();

  /** Resolves once everything named in `directory` before this call is durable. */
  sync(directory: string): Promise<void> {
    let state = this.#directories.get(directory);
    if (state === undefined) {
      state = { running: false, waiting: undefined };
      this.#directories.set(directory, state);
    }
    if (state.waiting !== undefined) return state.waiting.promise;
    let resolve!: () => void;
    let reject!: (error: unknown) => void;
    const promise = new Promise<void>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    state.waiting = { promise, resolve, reject };
    if (!state.running) this.#start(directory, state);
    return promise;
  }

  #start(directory: string, state: DirectoryState): void {
    const batch = state.waiting;
    if (batch === undefined) {
      this.#directories.delete(directory);
      return;
    }
    state.waiting = undefined;
    state.running = true;
    syncPath(directory)
      .then(batch.resolve, batch.reject)
      .finally(() => {
        state.running = false;
        this.#start(directory, state);
      });
  }
}

/** fsync a file or directory by path. */
export async function syncPath(target: string): Promise<void> {
  const handle = await open(target, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
