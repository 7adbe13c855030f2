/**
 * An item whose keys cannot be made (no randomness for its salt) fails on its own: its
 * promise rejects instead of staying pending, nothing of it is sent, and the connection
 * goes on serving the next items.
 */
import { randomBytes } from "node:crypto";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { keyId } from "../../src/crypto/key-id.js";
import { GbClient } from "../../src/transfer/client.js";
import { closeFakeServers, fakeServer, WAIT_MS } from "../support/fake-server.js";
import { TempDirs } from "../support/temp-dirs.js";

vi.mock("../../src/crypto/item-keys.js", async (importOriginal) => ({
  ...(await importOriginal<typeof import("../../src/crypto/item-keys.js")>()),
  newItemSalt: (): Buffer => {
    throw new Error("no randomness");
  },
}));

const temp = new TempDirs();

afterEach(async () => {
  await closeFakeServers();
  await temp.removeAll();
});

describe("an item whose keys cannot be made", () => {
  it(
    "rejects, sends nothing of it, and the items after it still go",
    async () => {
      const key = randomBytes(32);
      const seen: string[] = [];
      const port = await fakeServer((peer) => {
        peer.greet({ keyId: keyId(key) });
        peer.onItemStart = (item) => {
          seen.push(item.meta.name);
        };
        peer.onItemEnd = (item) => {
          peer.receipt(item);
        };
      });
      const client = await GbClient.connect({ host: "127.0.0.1", port, encryption: { key } });
      const file = path.join(await temp.make("gb-keys-"), "notes.txt");
      await writeFile(file, "some notes\n");
      const dict = client.sendDict(
        { a: 1 },
        { format: "json", name: "secret.json", encrypt: true },
      );
      const streamed = client.sendFile(file, { encrypt: true });
      const plain = client.sendDict({ b: 2 }, { format: "json", name: "plain.json" });
      await expect(dict).rejects.toThrow(/cannot make the item's keys/);
      await expect(streamed).rejects.toThrow(/cannot make the item's keys/);
      await expect(plain).resolves.toMatchObject({ id: 1, name: "plain.json" });
      expect(seen).toEqual(["plain.json"]);
      await client.close();
    },
    WAIT_MS,
  );
});
