/**
 * [V-BACKPRESSURE] A client that pipelines items but never reads its receipts must not
 * make the server queue receipts without bound: the server stops reading that
 * connection until its receipts drain, and takes up the rest once the client reads.
 */
import { connect } from "node:net";
import { describe, expect, it, vi } from "vitest";
import { FrameType } from "../../src/protocol/constants.js";
import {
  HOST,
  plainDictItem,
  plainFileItem,
  preamble,
  startServer,
  useResources,
  type TestServer,
} from "./helpers.js";

/** Items sent without reading a receipt: tens of MB of receipts, more than socket buffers hold. */
const ITEMS = 200_000;
/**
 * Items of the saving cases: each is a file on disk, so fewer, with names long enough
 * (echoed in each receipt) that their receipts still far outgrow the socket buffers.
 */
const SAVED_ITEMS = 10_000;
const LONG_NAME_CHARS = 1000;
/** How long the server's count must stand still to count as stopped. */
const STILL_MS = 750;
const BOUND_MS = 60_000;

const resources = useResources();

/**
 * Waits until `count()` has started and then not changed for {@link STILL_MS} (bounded),
 * and returns it. (A server slow to start, on a busy machine, is not a server that stopped.)
 */
async function settledCount(count: () => number): Promise<number> {
  const started = Date.now();
  await vi.waitFor(
    () => {
      expect(count()).toBeGreaterThan(0);
    },
    { timeout: BOUND_MS, interval: 20 },
  );
  let last = count();
  let since = Date.now();
  while (Date.now() - started < BOUND_MS) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    const now = count();
    if (now !== last) {
      last = now;
      since = Date.now();
    } else if (Date.now() - since >= STILL_MS) return now;
  }
  return count();
}

type ItemMaker = (id: number) => Buffer;

const smallDict: ItemMaker = (id) => plainDictItem(id, "d", "json", Buffer.from('{"n":1}'));
/** Every name different, so that none waits for a free numbered name [V-NAME-NUMBER]. */
const longName = (id: number): string => `${id}-${"x".repeat(LONG_NAME_CHARS)}`;
const namedDict: ItemMaker = (id) =>
  plainDictItem(id, longName(id), "json", Buffer.from('{"n":1}'));
const namedFile: ItemMaker = (id) => plainFileItem(id, longName(id), Buffer.from("f"));

async function pipelineWithoutReading(
  ts: TestServer,
  count = ITEMS,
  makeItem: ItemMaker = smallDict,
): Promise<void> {
  const items: Buffer[] = [preamble()];
  for (let id = 1; id <= count; id++) items.push(makeItem(id));
  const socket = connect(ts.port, HOST);
  resources.defer(() => {
    socket.destroy();
  });
  socket.pause();
  await new Promise<void>((resolve) => socket.once("connect", resolve));
  // Written without waiting: what the server does not read stays in the kernel's buffers.
  socket.write(Buffer.concat(items));
  const stopped = await settledCount(() => ts.items.length);
  expect(stopped).toBeGreaterThan(0);
  expect(stopped).toBeLessThan(count);

  // Reading the receipts lets the server take up the rest.
  let receipts = 0;
  let pending = Buffer.alloc(0);
  socket.on("data", (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    for (;;) {
      if (pending.length >= 8 && receipts === 0 && pending.subarray(0, 4).toString() === "GBTP") {
        pending = pending.subarray(8);
      }
      if (pending.length < 5) break;
      const length = pending.readUInt32BE(1);
      if (pending.length < 5 + length) break;
      if (pending[0] === FrameType.RECEIPT) receipts++;
      pending = pending.subarray(5 + length);
    }
  });
  socket.resume();
  await vi.waitFor(
    () => {
      expect(receipts).toBe(count);
    },
    { timeout: BOUND_MS, interval: 50 },
  );
  expect(ts.items).toHaveLength(count);
}

describe("[V-BACKPRESSURE] receipts a client does not read", () => {
  it("a server that does not save stops reading, and goes on once the client reads", async () => {
    const ts = await startServer(resources, { save: false, previewBytes: 0 });
    await pipelineWithoutReading(ts);
  });

  it("a server that does not save stops reading file items too", async () => {
    const ts = await startServer(resources, { save: false, previewBytes: 0 });
    await pipelineWithoutReading(ts, SAVED_ITEMS, namedFile);
  });

  it("a saving server stops reading file items, and goes on once the client reads", async () => {
    const ts = await startServer(resources, { previewBytes: 0 });
    await pipelineWithoutReading(ts, SAVED_ITEMS, namedFile);
  });

  it("a saving server stops reading dictionaries, and goes on once the client reads", async () => {
    const ts = await startServer(resources, { previewBytes: 0 });
    await pipelineWithoutReading(ts, SAVED_ITEMS, namedDict);
  });
});
