/**
 * GbClient resuming a file the network cut [RES-*]: through a relay that counts (and
 * cuts) what the client sends, plain and encrypted; a source that changed; what does
 * not ask; and a server that offers what it should not.
 */
import { createHash, randomBytes } from "node:crypto";
import { appendFile, mkdir, readFile, stat, utimes, writeFile } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { FrameType } from "../../src/protocol/constants.js";
import { encodeOffer } from "../../src/protocol/resume-messages.js";
import { GbClient } from "../../src/transfer/client.js";
import {
  prepareFile,
  prepareStream,
  prepareTree,
} from "../../src/transfer/client/prepared-item.js";
import type { CountingRelay } from "../support/counting-relay.js";
import { closeFakeServers, fakeServer } from "../support/fake-server.js";
import {
  connectClient,
  frame,
  HOST,
  makeTempDir,
  startServer,
  useResources,
  type TestServer,
  countingRelay,
} from "./helpers.js";

const resources = useResources();
afterEach(closeFakeServers);

const MiB = 1024 * 1024;
const SIZE = 3 * MiB;

function sha256(data: Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

function relay(ts: TestServer, cutAfterBytes?: number): Promise<CountingRelay> {
  return countingRelay(resources, ts, cutAfterBytes);
}

/** Sends `file` through `via`; resolves with the item, or rejects with its failure. */
async function send(ts: TestServer, via: CountingRelay, file: string, encrypted: boolean) {
  const client = await connectClient(
    resources,
    via,
    encrypted ? { encryption: { key: ts.masterKey } } : {},
  );
  const offsets: number[] = [];
  const sent = await client.send(await prepareFile(file), {
    onResume: (offset) => offsets.push(offset),
  });
  await client.close();
  return { sent, offsets };
}

/** Sends `file` through a relay that cuts after `cutAfter` bytes; the item fails. */
async function sendCut(ts: TestServer, file: string, cutAfter: number, encrypted: boolean) {
  const cutting = await relay(ts, cutAfter);
  await expect(send(ts, cutting, file, encrypted)).rejects.toMatchObject({
    code: "CONNECTION_LOST",
  });
  await ts.waitNoConnections();
  return cutting.toServerBytes;
}

async function sourceFile(data: Buffer, name = "big.bin"): Promise<string> {
  const dir = await makeTempDir(resources);
  const file = path.join(dir, name);
  await writeFile(file, data);
  return file;
}

describe("a file cut off, sent again", () => {
  for (const encrypted of [false, true]) {
    it(`[RES-RESUME] only the missing part crosses the wire the second time (${encrypted ? "encrypted" : "plain"})`, async () => {
      const ts = await startServer(resources);
      const data = randomBytes(SIZE);
      const file = await sourceFile(data);
      const firstRun = await sendCut(ts, file, 2 * MiB, encrypted);
      const counting = await relay(ts);
      const { sent, offsets } = await send(ts, counting, file, encrypted);
      expect(sent.resumed).toBeGreaterThan(MiB);
      expect(sent.resumed).toBeLessThanOrEqual(firstRun);
      expect(offsets).toEqual([sent.resumed]);
      // The rest, plus frames and records: far less than the file.
      expect(counting.toServerBytes).toBeGreaterThanOrEqual(SIZE - sent.resumed!);
      expect(counting.toServerBytes).toBeLessThan(SIZE - sent.resumed! + 64 * 1024);
      // [RES-RESUME] the receipt covers the whole file, end to end.
      expect(sent.bytes).toBe(SIZE);
      expect(sent.sha256).toBe(sha256(data));
      expect(sent.receipt).toMatchObject({ bytes: SIZE, sha256: sha256(data), savedAs: "big.bin" });
      expect(sha256(await readFile(path.join(ts.saveDir!, "big.bin")))).toBe(sha256(data));
    });
  }

  it("[RES-KEY] a source whose modification time changed gets another key: sent whole", async () => {
    const ts = await startServer(resources);
    const file = await sourceFile(randomBytes(SIZE));
    await sendCut(ts, file, 2 * MiB, false);
    const later = new Date((await stat(file)).mtimeMs + 5_000);
    await utimes(file, later, later);
    const { sent, offsets } = await send(ts, await relay(ts), file, false);
    expect(sent.resumed).toBe(0);
    expect(offsets).toEqual([]);
  });

  it("[RES-KEY] a source whose size changed gets another key: sent whole", async () => {
    const ts = await startServer(resources);
    const file = await sourceFile(randomBytes(SIZE));
    await sendCut(ts, file, 2 * MiB, false);
    const { mtime } = await stat(file);
    await appendFile(file, "more");
    await utimes(file, mtime, mtime);
    const { sent } = await send(ts, await relay(ts), file, false);
    expect(sent.resumed).toBe(0);
    expect(sent.bytes).toBe(SIZE + 4);
  });

  it("[RES-RESUME] a prefix that changed past the key's first MiB starts over, and the new bytes are stored", async () => {
    const ts = await startServer(resources);
    const data = randomBytes(SIZE);
    const file = await sourceFile(data);
    await sendCut(ts, file, 2 * MiB + 512 * 1024, false);
    const { mtime } = await stat(file);
    data[MiB + 100] = data[MiB + 100]! ^ 0xff;
    await writeFile(file, data);
    await utimes(file, mtime, mtime);
    const counting = await relay(ts);
    const { sent } = await send(ts, counting, file, false);
    expect(sent.resumed).toBe(0);
    expect(counting.toServerBytes).toBeGreaterThan(SIZE);
    expect(sent.sha256).toBe(sha256(data));
    expect(sha256(await readFile(path.join(ts.saveDir!, "big.bin")))).toBe(sha256(data));
  });
});

describe("[RES-TREE] a file of a tree", () => {
  /** Sends every entry of the tree at `dir`; resolves with the items, or the first failure. */
  async function sendTree(ts: TestServer, via: CountingRelay, dir: string) {
    const client = await GbClient.connect({ host: HOST, port: via.port });
    resources.defer(() => {
      client.destroy();
    });
    const tree = await prepareTree(dir);
    const sent = await Promise.all(tree.items.map((item) => client.send(item)));
    await client.close();
    return sent;
  }

  it("[RES-TREE] resumes like a file, in the new top folder the tree is sent into again", async () => {
    const ts = await startServer(resources);
    const root = path.join(await makeTempDir(resources), "photos");
    await mkdir(root);
    const big = randomBytes(SIZE);
    await writeFile(path.join(root, "a.txt"), "first");
    await writeFile(path.join(root, "b.bin"), big);
    const cutting = await relay(ts, 2 * MiB);
    await expect(sendTree(ts, cutting, root)).rejects.toMatchObject({ code: "CONNECTION_LOST" });
    await ts.waitNoConnections();
    const counting = await relay(ts);
    const sent = await sendTree(ts, counting, root);
    const file = sent.find((item) => item.name === "b.bin")!;
    expect(file.resumed).toBeGreaterThan(MiB);
    expect(file.receipt.savedAs).toBe("photos-1/b.bin");
    expect(counting.toServerBytes).toBeLessThan(SIZE - file.resumed! + 64 * 1024);
    expect(sha256(await readFile(path.join(ts.saveDir!, "photos-1", "b.bin")))).toBe(sha256(big));
  });
});

describe("[RES-ASK] what asks to resume", () => {
  it("[RES-ASK] a file of 1 MiB asks; one byte less, standard input and a dictionary do not", async () => {
    const ts = await startServer(resources);
    const client = await GbClient.connect({ host: HOST, port: ts.port });
    resources.defer(() => {
      client.destroy();
    });
    const asks = await client.send(await prepareFile(await sourceFile(randomBytes(MiB), "a")));
    const small = await client.send(await prepareFile(await sourceFile(randomBytes(MiB - 1), "b")));
    const off = await client.send(await prepareFile(await sourceFile(randomBytes(MiB), "c")), {
      resume: false,
    });
    const stream = await client.send(
      prepareStream(Readable.from([randomBytes(2 * MiB)]), { name: "stdin", size: 2 * MiB }),
    );
    const dict = await client.sendDict({ a: 1 }, { format: "json" });
    await client.close();
    expect(asks.resumed).toBe(0);
    for (const item of [small, off, stream, dict]) expect(item).not.toHaveProperty("resumed");
  });
});

describe("a server that offers what it should not", () => {
  it("[RES-OFFER] an OFFER for an item that did not ask fails the connection with UNEXPECTED_FRAME", async () => {
    const port = await fakeServer((peer) => {
      peer.greet();
      peer.onItemStart = (item) => {
        peer.send(
          frame(
            FrameType.OFFER,
            encodeOffer({ id: item.id, offset: 0, sha256: sha256(Buffer.alloc(0)) }),
          ),
        );
      };
    });
    const client = await GbClient.connect({ host: HOST, port });
    resources.defer(() => {
      client.destroy();
    });
    await expect(client.sendDict({ a: 1 }, { format: "json" })).rejects.toMatchObject({
      code: "UNEXPECTED_FRAME",
    });
  });

  it("[RES-OFFER] an OFFER over the item's size, or for another item, fails the connection", async () => {
    for (const [offer, code] of [
      [(id: number) => ({ id, offset: SIZE + 1 }), "MALFORMED_MESSAGE"],
      [(id: number) => ({ id: id + 1, offset: 0 }), "UNEXPECTED_FRAME"],
    ] as const) {
      const port = await fakeServer((peer) => {
        peer.greet();
        peer.onItemStart = (item) => {
          const { id, offset } = offer(item.id);
          peer.send(
            frame(FrameType.OFFER, encodeOffer({ id, offset, sha256: sha256(Buffer.alloc(0)) })),
          );
        };
      });
      const client = await GbClient.connect({ host: HOST, port });
      resources.defer(() => {
        client.destroy();
      });
      const file = await sourceFile(randomBytes(SIZE));
      await expect(client.send(await prepareFile(file))).rejects.toMatchObject({ code });
    }
  });
});
