/**
 * Group commit on a durable server [V-GROUP]: many small items pipelined over one
 * connection are flushed side by side, yet answered and named in item order.
 */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { connectClient, sha256, startServer, useResources } from "./helpers.js";

const resources = useResources();

describe("group commit", () => {
  it("[V-GROUP] 300 small files, many with one name, pipelined to a durable server: answered and named in item order", async () => {
    const ts = await startServer(resources, { durable: true });
    const client = await connectClient(resources, ts, { encryption: { key: ts.masterKey } });
    const contents = Array.from({ length: 300 }, () => randomBytes(4096));
    const sent = await Promise.all(
      contents.map((data, index) =>
        client.sendStream(Readable.from([data]), {
          name: index % 3 === 0 ? "same.bin" : `f${index}.bin`,
          size: data.length,
        }),
      ),
    );
    await client.close();
    expect(sent.map((item) => item.id)).toEqual(contents.map((_, index) => index + 1));
    const same = sent.filter((_, index) => index % 3 === 0).map((item) => item.receipt.savedAs);
    expect(same).toEqual(same.map((_, n) => (n === 0 ? "same.bin" : `same-${n}.bin`)));
    // The server reported them in item order too, each stored as its receipt says.
    expect(ts.items.map((item) => item.id)).toEqual(sent.map((item) => item.id));
    for (const [index, item] of sent.entries()) {
      const stored = await readFile(path.join(ts.saveDir!, item.receipt.savedAs!));
      expect(sha256(stored)).toBe(sha256(contents[index]!));
    }
  });
});
