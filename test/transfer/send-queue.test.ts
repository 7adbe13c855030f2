import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { SendQueue, type SendJob, type SendTarget } from "../../src/transfer/client/send-queue.js";
import { withTimeout } from "../support/with-timeout.js";

/** Bound for every wait in these tests. */
const WAIT_MS = 10_000;

interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(error: unknown): void;
}

function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** An ordered log of what happened, and a bounded wait for it to reach a length. */
class Log {
  readonly entries: string[] = [];
  readonly #waiters: { count: number; resolve: () => void }[] = [];

  add(entry: string): void {
    this.entries.push(entry);
    for (const waiter of [...this.#waiters]) {
      if (this.entries.length >= waiter.count) {
        this.#waiters.splice(this.#waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  }

  /** Resolves once the log holds `count` entries; rejects after WAIT_MS. */
  async until(count: number): Promise<string[]> {
    if (this.entries.length < count) {
      await withTimeout(
        new Promise<void>((resolve) => this.#waiters.push({ count, resolve })),
        WAIT_MS,
        `log to reach ${count} entries; it holds ${JSON.stringify(this.entries)}`,
      );
    }
    return this.entries;
  }
}

/** A socket stand-in: `full` is a flag; each `drain()` returns a promise the test settles. */
class FakeTarget implements SendTarget {
  isFull = false;
  readonly drains: Deferred[] = [];
  readonly full = (): boolean => this.isFull;
  readonly drain = (): Promise<void> => {
    const wait = deferred();
    this.drains.push(wait);
    this.log?.add(`drain ${this.drains.length}`);
    return wait.promise;
  };
  constructor(readonly log?: Log) {}
}

/** One end of the event loop's current turn (every pending promise callback has run). */
const endOfTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function newQueue(target: SendTarget, log: Log): SendQueue {
  return new SendQueue(target, (error) => {
    log.add(`error ${error instanceof Error ? error.message : String(error)}`);
  });
}

/** Runs an async job "a" and a job "b" queued behind it, to the end. */
async function runAThenB(log: Log, queue: SendQueue): Promise<void> {
  const first = deferred();
  queue.push(asyncJob(log, "a", first));
  queue.push(syncJob(log, "b"));
  first.resolve();
  await withTimeout(queue.idle(), WAIT_MS, "idle");
  expect(log.entries).toEqual(["a", "a done", "b"]);
}

/** A log, a fake socket writing to it, and a queue on that socket logging its errors. */
function setup(): { log: Log; target: FakeTarget; queue: SendQueue } {
  const log = new Log();
  const target = new FakeTarget(log);
  return { log, target, queue: newQueue(target, log) };
}

/** A job that logs `name` and returns nothing. */
const syncJob =
  (log: Log, name: string): SendJob =>
  () => {
    log.add(name);
    return undefined;
  };

/** A job that logs `name` and returns `wait`, logging `name done` when it settles. */
const asyncJob =
  (log: Log, name: string, wait: Deferred): SendJob =>
  () => {
    log.add(name);
    return wait.promise.then(
      () => {
        log.add(`${name} done`);
      },
      (error: unknown) => {
        log.add(`${name} failed`);
        throw error;
      },
    );
  };

describe("SendQueue", () => {
  it("runs a job pushed while idle, with room on the socket, inside push()", () => {
    const { log, target, queue } = setup();
    queue.push(syncJob(log, "a"));
    expect(log.entries).toEqual(["a"]);
    queue.push(syncJob(log, "b"));
    expect(log.entries).toEqual(["a", "b"]);
    expect(target.drains).toHaveLength(0);
  });

  it("makes later jobs wait for a job's promise, and runs them in push order", async () => {
    const { log, queue } = setup();
    const first = deferred();
    const third = deferred();
    queue.push(asyncJob(log, "a", first));
    queue.push(syncJob(log, "b"));
    queue.push(asyncJob(log, "c", third));
    queue.push(syncJob(log, "d"));
    expect(log.entries).toEqual(["a"]);
    await endOfTurn();
    expect(log.entries).toEqual(["a"]);

    first.resolve();
    expect(await log.until(4)).toEqual(["a", "a done", "b", "c"]);
    await endOfTurn();
    expect(log.entries).toEqual(["a", "a done", "b", "c"]);

    third.resolve();
    await withTimeout(queue.idle(), WAIT_MS, "idle");
    expect(log.entries).toEqual(["a", "a done", "b", "c", "c done", "d"]);
  });

  it("runs a thousand queued jobs exactly once each, in push order", async () => {
    const { log, queue } = setup();
    const gate = deferred();
    queue.push(asyncJob(log, "gate", gate));
    const names = Array.from({ length: 1000 }, (_, index) => `job ${index}`);
    for (const [index, name] of names.entries()) {
      const wait = deferred();
      if (index % 2 === 0) wait.resolve();
      queue.push(index % 2 === 0 ? asyncJob(log, name, wait) : syncJob(log, name));
    }
    gate.resolve();
    await withTimeout(queue.idle(), WAIT_MS, "idle");
    expect(
      log.entries.filter((entry) => entry.startsWith("job ") && !entry.endsWith("done")),
    ).toEqual(names);
  });

  it("waits for target.drain() before the next job while the socket is full", async () => {
    const { log, target, queue } = setup();
    target.isFull = true;
    queue.push(syncJob(log, "a"));
    // Nothing runs while the socket is full; the wait for it starts at once.
    expect(log.entries).toEqual(["drain 1"]);
    queue.push(syncJob(log, "b"));
    await endOfTurn();
    expect(log.entries).toEqual(["drain 1"]);

    // Still full after the first drain: the queue waits again before "b".
    target.drains[0]!.resolve();
    expect(await log.until(3)).toEqual(["drain 1", "a", "drain 2"]);
    target.isFull = false;
    target.drains[1]!.resolve();
    await withTimeout(queue.idle(), WAIT_MS, "idle");
    expect(log.entries).toEqual(["drain 1", "a", "drain 2", "b"]);
    expect(target.drains).toHaveLength(2);
  });

  it("checks for room between jobs: a socket that fills during a job is drained before the next", async () => {
    const { log, target, queue } = setup();
    const first = deferred();
    queue.push(asyncJob(log, "a", first));
    queue.push(syncJob(log, "b"));
    target.isFull = true; // "a" filled the socket
    first.resolve();
    expect(await log.until(3)).toEqual(["a", "a done", "drain 1"]);
    await endOfTurn();
    expect(log.entries).toEqual(["a", "a done", "drain 1"]);
    target.isFull = false;
    target.drains[0]!.resolve();
    await withTimeout(queue.idle(), WAIT_MS, "idle");
    expect(log.entries).toEqual(["a", "a done", "drain 1", "b"]);
  });

  it("does not call drain() when the socket has room", async () => {
    const { log, target, queue } = setup();
    await runAThenB(log, queue);
    expect(target.drains).toHaveLength(0);
  });

  it("hands a job's synchronous throw to onError, and runs the next job (idle path)", () => {
    const { log, queue } = setup();
    queue.push(() => {
      throw new Error("boom");
    });
    expect(log.entries).toEqual(["error boom"]);
    queue.push(syncJob(log, "b"));
    expect(log.entries).toEqual(["error boom", "b"]);
  });

  it("hands throws and rejections of queued jobs to onError, in order, and goes on", async () => {
    const { log, queue } = setup();
    const first = deferred();
    const second = deferred();
    queue.push(asyncJob(log, "a", first));
    queue.push(() => {
      throw new Error("thrown by b");
    });
    queue.push(asyncJob(log, "c", second));
    queue.push(syncJob(log, "d"));
    first.reject(new Error("rejected by a"));
    expect(await log.until(5)).toEqual([
      "a",
      "a failed",
      "error rejected by a",
      "error thrown by b",
      "c",
    ]);
    second.reject(new Error("rejected by c"));
    await withTimeout(queue.idle(), WAIT_MS, "idle");
    expect(log.entries).toEqual([
      "a",
      "a failed",
      "error rejected by a",
      "error thrown by b",
      "c",
      "c failed",
      "error rejected by c",
      "d",
    ]);
  });

  it("hands onError the very error object a job rejected with", async () => {
    const errors: unknown[] = [];
    const queue = new SendQueue(new FakeTarget(), (error) => errors.push(error));
    const reason = new RangeError("this very one");
    queue.push(() => Promise.reject(reason));
    await withTimeout(queue.idle(), WAIT_MS, "idle");
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBe(reason);
  });

  it("hands a rejected drain() to onError and still runs the job", async () => {
    const { log, target, queue } = setup();
    target.isFull = true;
    queue.push(syncJob(log, "a"));
    queue.push(syncJob(log, "b"));
    expect(log.entries).toEqual(["drain 1"]);
    target.drains[0]!.reject(new Error("connection lost"));
    // "a" runs (and fails its item itself); the socket is still "full", so "b" waits too.
    expect(await log.until(4)).toEqual(["drain 1", "error connection lost", "a", "drain 2"]);
    target.drains[1]!.reject(new Error("connection lost again"));
    await withTimeout(queue.idle(), WAIT_MS, "idle");
    expect(log.entries).toEqual([
      "drain 1",
      "error connection lost",
      "a",
      "drain 2",
      "error connection lost again",
      "b",
    ]);
  });

  it("idle() resolves at once when nothing was pushed, and after synchronous jobs", async () => {
    const { log, queue } = setup();
    await expect(withTimeout(queue.idle(), WAIT_MS, "idle")).resolves.toBeUndefined();
    queue.push(syncJob(log, "a"));
    await expect(withTimeout(queue.idle(), WAIT_MS, "idle")).resolves.toBeUndefined();
    expect(log.entries).toEqual(["a"]);
  });

  it("idle() resolves only after every job pushed so far has finished", async () => {
    const { log, queue } = setup();
    const first = deferred();
    const second = deferred();
    queue.push(asyncJob(log, "a", first));
    queue.push(asyncJob(log, "b", second));
    let idle = false;
    void queue.idle().then(() => {
      idle = true;
    });
    first.resolve();
    await log.until(3); // "a", "a done", "b"
    await endOfTurn();
    expect(idle).toBe(false);
    second.resolve();
    await withTimeout(queue.idle(), WAIT_MS, "idle");
    expect(idle).toBe(true);
    expect(log.entries).toEqual(["a", "a done", "b", "b done"]);
  });

  it("idle() never rejects, even when the last job and the last drain failed", async () => {
    const { log, target, queue } = setup();
    const first = deferred();
    queue.push(asyncJob(log, "a", first));
    queue.push(() => Promise.reject(new Error("b failed")));
    const idle = queue.idle();
    target.isFull = true;
    first.reject(new Error("a failed"));
    await log.until(4); // "a", "a failed", "error a failed", "drain 1"
    target.drains[0]!.reject(new Error("lost"));
    await expect(withTimeout(idle, WAIT_MS, "idle")).resolves.toBeUndefined();
    expect(log.entries).toEqual([
      "a",
      "a failed",
      "error a failed",
      "drain 1",
      "error lost",
      "error b failed",
    ]);
  });

  it("runs a new push synchronously again once the queue has emptied", async () => {
    const { log, target, queue } = setup();
    await runAThenB(log, queue);
    queue.push(syncJob(log, "c"));
    expect(log.entries).toEqual(["a", "a done", "b", "c"]);

    // The same after a wait for the socket.
    target.isFull = true;
    queue.push(syncJob(log, "d"));
    target.isFull = false;
    target.drains[0]!.resolve();
    await withTimeout(queue.idle(), WAIT_MS, "idle");
    queue.push(syncJob(log, "e"));
    expect(log.entries).toEqual(["a", "a done", "b", "c", "drain 1", "d", "e"]);
  });

  it("idleNow is true exactly while no job is waiting or running", async () => {
    const { log, target, queue } = setup();
    expect(queue.idleNow).toBe(true);
    queue.push(syncJob(log, "a"));
    expect(queue.idleNow).toBe(true);
    const second = deferred();
    queue.push(asyncJob(log, "b", second));
    expect(queue.idleNow).toBe(false);
    second.resolve();
    await withTimeout(queue.idle(), WAIT_MS, "idle");
    expect(queue.idleNow).toBe(true);
    target.isFull = true;
    queue.push(syncJob(log, "c"));
    expect(queue.idleNow).toBe(false);
    target.isFull = false;
    target.drains[0]!.resolve();
    await withTimeout(queue.idle(), WAIT_MS, "idle");
    expect(queue.idleNow).toBe(true);
    expect(log.entries).toEqual(["a", "b", "b done", "drain 1", "c"]);
  });

  // A job started inside push() (queue idle) that pushes another job before it returns:
  // the inner job must wait for the outer one, and idle() must wait for both.
  it("still runs later jobs after a job pushed a synchronous one from inside push()", async () => {
    // The inner job finished within the outer push(): the queue must not be left
    // believing a run is still going (later jobs would then never run).
    const { log, queue } = setup();
    queue.push(() => {
      log.add("a");
      queue.push(syncJob(log, "b"));
      return undefined;
    });
    await withTimeout(queue.idle(), WAIT_MS, "idle");
    queue.push(syncJob(log, "c"));
    await withTimeout(queue.idle(), WAIT_MS, "idle");
    expect(log.entries).toEqual(["a", "b", "c"]);
    expect(queue.idleNow).toBe(true);
  });

  it("queues a job pushed by a queued job while it runs, behind the jobs already waiting", async () => {
    const { log, target, queue } = setup();
    target.isFull = true;
    queue.push(() => {
      log.add("a");
      queue.push(syncJob(log, "c"));
      return undefined;
    });
    queue.push(syncJob(log, "b"));
    target.isFull = false;
    target.drains[0]!.resolve();
    await withTimeout(queue.idle(), WAIT_MS, "idle");
    expect(log.entries).toEqual(["drain 1", "a", "b", "c"]);
    expect(queue.idleNow).toBe(true);
  });

  it("keeps one job at a time, and idle() waits for all, when a job pushes another as it starts", async () => {
    const { log, queue } = setup();
    const outer = deferred();
    const inner = deferred();
    queue.push(() => {
      log.add("a");
      queue.push(asyncJob(log, "b", inner));
      return outer.promise.then(() => {
        log.add("a done");
      });
    });
    queue.push(syncJob(log, "c"));
    outer.resolve();
    await log.until(2); // "a", "a done" (and "b", if it ran before "a" finished)
    await endOfTurn();
    let idle = false;
    void queue.idle().then(() => {
      idle = true;
    });
    await endOfTurn();
    // "b" has not finished: nothing pushed after it may have run, and the queue is busy.
    expect(log.entries).not.toContain("b done");
    expect(log.entries).not.toContain("c");
    expect(idle).toBe(false);
    inner.resolve();
    await withTimeout(queue.idle(), WAIT_MS, "idle");
    expect(log.entries.indexOf("c")).toBeGreaterThan(log.entries.indexOf("b done"));
  });

  it("runs every job once, in push order, whatever the jobs do (property)", async () => {
    type Step =
      | { kind: "sync" | "throw" | "resolve" | "reject" }
      | { kind: "full"; full: boolean }
      | { kind: "turn" };
    const step: fc.Arbitrary<Step> = fc.oneof(
      fc.constantFrom<Step>(
        { kind: "sync" },
        { kind: "throw" },
        { kind: "resolve" },
        { kind: "reject" },
        { kind: "turn" },
      ),
      fc.boolean().map((full): Step => ({ kind: "full", full })),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 30 }), async (steps) => {
        const ran: number[] = [];
        const errors: string[] = [];
        const expectedErrors: string[] = [];
        let isFull = false;
        let drains = 0;
        const queue = new SendQueue(
          {
            full: () => isFull,
            drain: () => {
              drains++;
              isFull = false; // the socket empties as soon as we wait for it
              return Promise.resolve();
            },
          },
          (error) => errors.push(error instanceof Error ? error.message : String(error)),
        );
        let pushed = 0;
        for (const current of steps) {
          if (current.kind === "full") {
            isFull = current.full;
            continue;
          }
          if (current.kind === "turn") {
            await endOfTurn();
            continue;
          }
          const id = pushed++;
          if (current.kind === "throw" || current.kind === "reject") {
            expectedErrors.push(`job ${id}`);
          }
          queue.push(() => {
            ran.push(id);
            if (current.kind === "throw") throw new Error(`job ${id}`);
            if (current.kind === "reject") return Promise.reject(new Error(`job ${id}`));
            if (current.kind === "resolve") return Promise.resolve();
            return undefined;
          });
        }
        await withTimeout(queue.idle(), WAIT_MS, "idle");
        expect(ran).toEqual(Array.from({ length: pushed }, (_, index) => index));
        expect(errors).toEqual(expectedErrors);
        expect(drains).toBeLessThanOrEqual(pushed);
      }),
      { numRuns: 200 },
    );
  });
});
