/**
 * [K-ABORT] When the server refuses an item while the client is still sending it, the
 * client stops reading its source and ends the item with an empty (0-byte) LAST_CHUNK,
 * in an encrypted session as on a plain connection; the connection goes on.
 */
import { randomBytes } from "node:crypto";
import { mkdir, rm } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { FrameType } from "../../src/protocol/constants.js";
import { GbClient } from "../../src/transfer/client.js";
import { GbServer } from "../../src/transfer/server.js";
import { sha256 } from "../support/sha256.js";
import { TempDirs } from "../support/temp-dirs.js";
import { withTimeout } from "../support/with-timeout.js";
import { closeFakeServers, fakeServer, WAIT_MS, type Peer } from "../support/fake-server.js";

const temp = new TempDirs();
const servers: GbServer[] = [];
const clients: GbClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await Promise.all(servers.splice(0).map((server) => server.close(1000)));
  await closeFakeServers();
  await temp.removeAll();
});

/** A source that yields one piece and then never again; it records being asked to stop. */
function stalledSource(): { source: AsyncIterable<Uint8Array>; stopped: () => boolean } {
  let stopped = false;
  let pieces = 0;
  const iterator: AsyncIterator<Uint8Array> = {
    next: () =>
      pieces++ === 0
        ? Promise.resolve({ done: false, value: Buffer.from("the first and only piece\n") })
        : new Promise(() => undefined), // never settles
    return: () => {
      stopped = true;
      return Promise.resolve({ done: true, value: undefined });
    },
  };
  return { source: { [Symbol.asyncIterator]: () => iterator }, stopped: () => stopped };
}

describe("[K-ABORT] an item refused while it is being sent", () => {
  for (const encrypt of [false, true]) {
    it(`[K-ABORT] ends with one empty LAST_CHUNK (${encrypt ? "encrypted" : "plaintext"}); the next item goes on`, async () => {
      const key = randomBytes(32);
      const next = Buffer.from("the next item\n");
      const peers: Peer[] = [];
      const port = await fakeServer(
        (peer) => {
          peer.greet();
          peer.onItemStart = (item) => {
            if (item.id === 1) peer.error("STORAGE_FAILED", "disk full", 1);
          };
          peer.onItemEnd = (item) => {
            if (item.id !== 2) return;
            const body = {
              kind: "file" as const,
              name: "next.txt",
              bytes: next.length,
              sha256: sha256(next),
              savedAs: "next.txt",
            };
            peer.receiptBody(item, body);
          };
          peers.push(peer);
        },
        { masterKey: key },
      );
      const client = await GbClient.connect({
        host: "127.0.0.1",
        port,
        ...(encrypt ? { encryption: { key } } : {}),
      });
      clients.push(client);
      const stalled = stalledSource();
      const refused = client.sendStream(stalled.source, { name: "stalled", size: null, encrypt });
      const stored = client.sendStream(Readable.from([next]), {
        name: "next.txt",
        size: next.length,
        encrypt,
      });
      await expect(withTimeout(refused, WAIT_MS, "the refusal")).rejects.toMatchObject({
        code: "STORAGE_FAILED",
        remote: true,
      });
      await expect(withTimeout(stored, WAIT_MS, "the next item")).resolves.toMatchObject({
        name: "next.txt",
      });
      await withTimeout(client.close(), WAIT_MS, "close()");
      const [first] = peers[0]!.items;
      expect(first!.frames).toEqual([{ type: FrameType.LAST_CHUNK, payload: Buffer.alloc(0) }]);
      // The source was asked to stop, though it never yields again by itself.
      expect(stalled.stopped()).toBe(true);
    });
  }

  it("[K-ABORT] gb-server takes the empty LAST_CHUNK of a refused encrypted item and serves the next one", async () => {
    const root = await temp.make("gb-abort-");
    const saveDir = path.join(root, "save");
    const masterKey = randomBytes(32);
    const server = await GbServer.listen({
      host: "127.0.0.1",
      port: 0,
      masterKey,
      saveDir,
      durable: false,
    });
    servers.push(server);
    // No save directory: the server refuses the file as soon as its ITEM arrives.
    await rm(saveDir, { recursive: true, force: true });
    const failure = new Promise<{ code: string }>((resolve) => {
      server.once("failure", resolve);
    });
    const client = await GbClient.connect({
      host: "127.0.0.1",
      port: server.address().port,
      encryption: { key: masterKey },
    });
    clients.push(client);
    const stalled = stalledSource();
    const refused = client.sendStream(stalled.source, { name: "big", size: null, encrypt: true });
    await expect(withTimeout(refused, WAIT_MS, "the refusal")).rejects.toMatchObject({
      code: "STORAGE_FAILED",
    });
    expect(await withTimeout(failure, WAIT_MS, "the server's failure event")).toMatchObject({
      code: "STORAGE_FAILED",
    });
    await mkdir(saveDir);
    const after = await withTimeout(
      client.sendDict({ back: true }, { format: "json", name: "back", encrypt: true }),
      WAIT_MS,
      "the next item on the same connection",
    );
    expect(after.receipt.savedAs).toBe("back.json");
    await withTimeout(client.close(), WAIT_MS, "close()");
  });
});
