import { mkdtemp, open, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { AnswerQueue } from "../../src/transfer/server/answer-queue.js";
import { DirectorySync } from "../../src/transfer/server/directory-sync.js";
import { NamingOrder } from "../../src/transfer/server/item-commit.js";

const made: string[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

/** A promise and the functions that settle it. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((res) => {
    resolve = res;
  });
  return { promise, resolve };
}

describe("group commit", () => {
  it("[V-GROUP] names made while a directory's fsync runs share the next one: 100 callers, at most 2 fsyncs", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "gb-group-"));
    made.push(dir);
    const probe = await open(dir, "r");
    const prototype = Object.getPrototypeOf(probe) as { sync: () => Promise<void> };
    await probe.close();
    const sync = vi.spyOn(prototype, "sync");
    const directories = new DirectorySync();
    await Promise.all(Array.from({ length: 100 }, () => directories.sync(dir)));
    expect(sync.mock.calls.length).toBeGreaterThanOrEqual(1);
    expect(sync.mock.calls.length).toBeLessThanOrEqual(2);
    // A caller after the batch is never answered by a sync that started before it.
    const before = sync.mock.calls.length;
    await directories.sync(dir);
    expect(sync.mock.calls.length).toBe(before + 1);
  });

  it("[V-GROUP] [K-ORDER] answers go out in item order, whichever commit finishes first", async () => {
    const written: string[] = [];
    const answers = new AnswerQueue(3);
    const first = deferred<() => void>();
    const second = deferred<() => void>();
    answers.push(first.promise);
    answers.push(second.promise);
    answers.push(() => written.push("third (an item ERROR)"));
    expect(answers.room()).toBeInstanceOf(Promise);
    second.resolve(() => written.push("second"));
    await Promise.resolve();
    expect(written).toEqual([]);
    first.resolve(() => written.push("first"));
    await answers.idle();
    expect(written).toEqual(["first", "second", "third (an item ERROR)"]);
    expect(answers.room()).toBeUndefined();
  });

  it("[V-GROUP] items are named in item order: a turn waits for the one before, however it ended", async () => {
    const order = new NamingOrder();
    const events: string[] = [];
    const one = order.next();
    const two = order.next();
    const three = order.next();
    const named = [
      two.named(two.wait.then(() => events.push("two"))),
      three.named(three.wait.then(() => events.push("three"))),
    ];
    await Promise.resolve();
    expect(events).toEqual([]);
    await one.named(Promise.reject(new Error("the first failed"))).catch(() => undefined);
    await Promise.all(named);
    expect(events).toEqual(["two", "three"]);
  });

  it("[V-GROUP] a turn queued in the small-file writer lets the next small file queue, not the next name", async () => {
    const order = new NamingOrder();
    const one = order.next();
    const two = order.next();
    const settled: string[] = [];
    void two.queued.then(() => settled.push("queued"));
    void two.wait.then(() => settled.push("named"));
    one.handOnQueued();
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toEqual(["queued"]);
    one.handOn();
    await new Promise((resolve) => setImmediate(resolve));
    expect(settled).toEqual(["queued", "named"]);
  });
});
