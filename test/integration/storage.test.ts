/**
 * Storage failures: the save directory disappears (or becomes unwritable) while the
 * server runs. Items fail with STORAGE_FAILED, connections go on, and the server serves
 * the next client once the directory is back.
 */
import { randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, rm } from "node:fs/promises";
import path from "node:path";
import { Readable } from "node:stream";
import { describe, expect, it } from "vitest";
import { FrameType } from "../../src/protocol/constants.js";
import {
  RawPeer,
  connectClient,
  expectNoTempFiles,
  expectServerHealthy,
  fileItemInFlight,
  frame,
  listDir,
  plainDictItem,
  plainFileItem,
  preamble,
  readError,
  readReceipt,
  startServer,
  storedFiles,
  tempFiles,
  useResources,
  waitForTempFile,
} from "./helpers.js";

const resources = useResources();

describe("storage failures", () => {
  it("a save dir removed after start: STORAGE_FAILED per item, served again once recreated", async () => {
    const ts = await startServer(resources);
    await rm(ts.saveDir!, { recursive: true });

    const client = await connectClient(resources, ts, { encryption: { key: ts.masterKey } });
    const results = await Promise.allSettled([
      client.sendStream(Readable.from([randomBytes(1000)]), { name: "a.bin", size: 1000 }),
      client.sendDict({ a: 1 }, { format: "json", name: "d" }),
      client.sendStream(Readable.from([randomBytes(1000)]), {
        name: "e.bin",
        size: null,
        encrypt: true,
      }),
      client.sendDict({ a: 1 }, { format: "xml", name: "e", encrypt: true }),
      // A large file: the server refuses it before its LAST_CHUNK; the client stops early.
      client.sendStream(Readable.from([randomBytes(3 * 1024 * 1024)]), {
        name: "big.bin",
        size: null,
      }),
    ]);
    expect(
      results.map((r) => (r.status === "rejected" ? (r.reason as { code: string }).code : "ok")),
    ).toEqual([
      "STORAGE_FAILED",
      "STORAGE_FAILED",
      "STORAGE_FAILED",
      "STORAGE_FAILED",
      "STORAGE_FAILED",
    ]);
    expect(ts.failures.map((f) => [f.id, f.code])).toEqual([
      [1, "STORAGE_FAILED"],
      [2, "STORAGE_FAILED"],
      [3, "STORAGE_FAILED"],
      [4, "STORAGE_FAILED"],
      [5, "STORAGE_FAILED"],
    ]);

    // Same connection, directory back: the next item is stored.
    await mkdir(ts.saveDir!);
    const after = await client.sendDict({ back: true }, { format: "msgpack", name: "back" });
    expect(after.receipt.savedAs).toBe("back.json");
    await client.close();
    // And a new client is served.
    await expectServerHealthy(resources, ts);
    expect(await storedFiles(ts.saveDir!)).toEqual(["back.json", "health-1.json", "health.json"]);
    expect(await tempFiles(ts.saveDir!)).toEqual([]);
  });

  it("raw: the item ERROR carries the id and the connection accepts the next item", async () => {
    const ts = await startServer(resources);
    await rm(ts.saveDir!, { recursive: true });
    const peer = await RawPeer.connect(resources, ts.port);
    await peer.write(Buffer.concat([preamble(), plainFileItem(1, "x.bin", randomBytes(100_000))]));
    const [first] = await peer.waitAnswers(1);
    expect(readError(first!)).toMatchObject({ code: "STORAGE_FAILED", id: 1 });
    await mkdir(ts.saveDir!);
    await peer.write(plainDictItem(2, "y", "json", Buffer.from('{"y":2}')));
    peer.end();
    const answers = await peer.waitAnswers(2);
    expect(readReceipt(answers[1]!)).toMatchObject({ id: 2, body: { savedAs: "y.json" } });
    await peer.waitClosed();
    expect(peer.errors().filter((e) => e.id === undefined)).toEqual([]);
  });

  it("a save path that is now a regular file: STORAGE_FAILED, the server keeps running", async () => {
    const ts = await startServer(resources);
    await rm(ts.saveDir!, { recursive: true });
    await (await import("node:fs/promises")).writeFile(ts.saveDir!, "not a directory");
    const client = await connectClient(resources, ts);
    await expect(
      client.sendStream(Readable.from([Buffer.from("data")]), { name: "f", size: 4 }),
    ).rejects.toMatchObject({ code: "STORAGE_FAILED" });
    await expect(client.sendDict({ a: 1 }, { format: "json" })).rejects.toMatchObject({
      code: "STORAGE_FAILED",
    });
    await client.close();
    await rm(ts.saveDir!);
    await mkdir(ts.saveDir!);
    await expectServerHealthy(resources, ts);
  });

  it.skipIf(process.getuid?.() === 0)(
    "an unwritable save dir (chmod 0o500): STORAGE_FAILED",
    async () => {
      const ts = await startServer(resources);
      await chmod(ts.saveDir!, 0o500);
      resources.defer(() => chmod(ts.saveDir!, 0o700));
      const client = await connectClient(resources, ts);
      await expect(
        client.sendStream(Readable.from([Buffer.from("data")]), { name: "f", size: 4 }),
      ).rejects.toMatchObject({ code: "STORAGE_FAILED" });
      await client.close();
      await chmod(ts.saveDir!, 0o700);
      await expectServerHealthy(resources, ts);
    },
  );

  // The temp file is already open when the directory goes away: the failure comes when
  // the item is committed (link/fsync fails), after PendingFile's stream has closed.
  for (const durable of [false, true]) {
    it(`a save dir removed mid-item (durable: ${durable}): item ERROR STORAGE_FAILED, connection goes on`, async () => {
      const ts = await startServer(resources, { durable });
      const peer = await RawPeer.connect(resources, ts.port);
      // Over SMALL_FILE_MAX_BYTES: written to a partial file as it arrives.
      await peer.write(fileItemInFlight("mid.bin", 100_000, 60_000));
      await waitForTempFile(ts.saveDir!);
      await rm(ts.saveDir!, { recursive: true });
      await peer.write(frame(FrameType.LAST_CHUNK, randomBytes(40_000)));
      const [answer] = await peer.waitAnswers(1, 3000);
      expect(readError(answer!)).toMatchObject({ code: "STORAGE_FAILED", id: 1 });

      await mkdir(ts.saveDir!);
      await peer.write(plainFileItem(2, "next.bin", Buffer.from("abc")));
      peer.end();
      const answers = await peer.waitAnswers(2, 3000);
      expect(readReceipt(answers[1]!)).toMatchObject({
        id: 2,
        body: { savedAs: "next.bin" },
      });
      await peer.waitClosed();
      expect(await listDir(ts.saveDir!)).toEqual(["next.bin"]);
      expect(await readFile(path.join(ts.saveDir!, "next.bin"), "utf8")).toBe("abc");
      await expectNoTempFiles(ts.saveDir!);
      await expectServerHealthy(resources, ts);
    });
  }
});
