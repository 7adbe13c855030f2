/**
 * Timing windows and reporting invariants of the server, made deterministic where needed
 * by holding one step of PendingFile.commit open (fault injection, no sleeps):
 * - an item is reported exactly once: either `item` (stored) or `failure` (nothing stored);
 * - the server answers every item exactly once on the wire;
 * - close(grace) is bounded by its grace, whoever is connected.
 */
import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it, onTestFinished, vi } from "vitest";
import { FrameType } from "../../src/protocol/constants.js";
import { PendingFile } from "../../src/transfer/server/item-store.js";
import {
  RawPeer,
  connectClient,
  connectOverLimit,
  plainFileItem,
  preamble,
  readReceipt,
  startServer,
  storedFiles,
  useResources,
  within,
  type TestServer,
} from "./helpers.js";

// Hooks run in reverse order: mocks are restored before the resources are released.
const resources = useResources();
afterEach(() => {
  vi.restoreAllMocks();
});

/** Lets the test run the event loop once around (I/O callbacks included). */
function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Adds an `item` listener that throws on the first item (a bug in the application's
 * listener) and checks, when the test finishes, that exactly one error reached the
 * server's `error` listeners (without one, a listener's error is rethrown).
 */
function throwInFirstItemListener(ts: TestServer): void {
  let thrown = 0;
  const listenerErrors: unknown[] = [];
  ts.server.on("error", (error) => listenerErrors.push(error));
  onTestFinished(() => {
    expect(listenerErrors).toHaveLength(1);
  });
  ts.server.on("item", () => {
    if (thrown++ === 0) throw new Error("a bug in the application's listener");
  });
}

describe("reporting invariants", () => {
  // server.close(grace) destroys the connections still open when the grace runs out. If
  // one of them is committing a complete item at that moment (fsync, link and unlink are
  // all asynchronous), the item must end up either stored and reported as `item`, or
  // discarded and reported as `failure` -- never both. The commit is held open here right
  // after the file got its final name (the window of its last unlink) to hit that moment.
  it("close(grace) expiring while an item is committed: never both `item` and `failure`", async () => {
    const original = Object.getOwnPropertyDescriptor(PendingFile.prototype, "commit")!.value as (
      this: PendingFile,
    ) => Promise<string>;
    let entered!: () => void;
    const inCommit = new Promise<void>((resolve) => {
      entered = resolve;
    });
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    vi.spyOn(PendingFile.prototype, "commit").mockImplementation(async function (
      this: PendingFile,
    ) {
      const savedAs = await original.call(this);
      entered();
      await released;
      return savedAs;
    });

    const ts = await startServer(resources);
    const peer = await RawPeer.connect(resources, ts.port);
    await peer.write(
      // Over SMALL_FILE_MAX_BYTES: stored through a PendingFile.
      Buffer.concat([preamble(), plainFileItem(1, "complete.bin", randomBytes(100_000))]),
    );
    await within(inCommit, 3000, "the commit to start");
    await within(ts.server.close(50), 3000, "server.close(50)");
    await peer.waitClosed();
    const failedAtClose = ts.failures.filter((f) => f.id === 1).map((f) => f.code);
    release();
    for (let i = 0; i < 5; i++) await turn();

    const reportedStored = ts.items.some((item) => item.id === 1);
    const reportedFailed = ts.failures.some((failure) => failure.id === 1);
    const stored = await storedFiles(ts.saveDir!);
    const outcome = JSON.stringify({ failedAtClose, reportedStored, reportedFailed, stored });
    expect(reportedStored && reportedFailed, `reported both ways: ${outcome}`).toBe(false);
    // "Nothing of a failed item is stored" (ItemFailure); a stored item was reported.
    expect(stored, outcome).toEqual(reportedStored ? ["complete.bin"] : []);
  });

  it("an `item` listener that throws does not add an item ERROR after the RECEIPT", async () => {
    const ts = await startServer(resources);
    throwInFirstItemListener(ts);
    const peer = await RawPeer.connect(resources, ts.port);
    await peer.write(Buffer.concat([preamble(), plainFileItem(1, "one.txt", Buffer.from("one"))]));
    await peer.waitAnswers(1);
    // Give the server a chance to send anything else about item 1, then finish cleanly.
    await peer.write(plainFileItem(2, "two.txt", Buffer.from("two")));
    peer.end();
    await peer.waitClosed();
    const aboutItem1 = peer.answers().filter((f) => {
      const message = JSON.parse(f.payload.toString("utf8")) as { id?: number };
      return message.id === 1;
    });
    // [S-SEQUENCE] exactly one RECEIPT or item ERROR per item.
    expect(aboutItem1.map((f) => f.type)).toEqual([FrameType.RECEIPT]);
    expect(readReceipt(aboutItem1[0]!).body.savedAs).toBe("one.txt");
    expect(ts.failures.filter((f) => f.id === 1)).toEqual([]);
  });

  it("GbClient: a throwing `item` listener on the server does not break the client's connection", async () => {
    const ts = await startServer(resources);
    throwInFirstItemListener(ts);
    const client = await connectClient(resources, ts);
    const results = await Promise.allSettled([
      client.sendDict({ a: 1 }, { format: "json", name: "a" }),
      client.sendDict({ b: 2 }, { format: "json", name: "b" }),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "fulfilled"]);
    await client.close();
  });
});

describe("close(grace) is bounded", () => {
  it("close(100) right after a BUSY refusal resolves within its grace (plus slack)", async () => {
    const ts = await startServer(resources, { maxConnections: 1 });
    const { second } = await connectOverLimit(resources, ts);
    expect(second.errors().map((e) => e.code)).toEqual(["BUSY"]);

    const started = Date.now();
    await within(ts.server.close(100), 3000, "server.close(100)");
    const elapsed = Date.now() - started;
    // The refused peer has already gone; nothing should hold close() for long.
    expect(elapsed).toBeLessThan(600);
  });
});
