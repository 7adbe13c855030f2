/**
 * Small files held in memory and stored by the small-file writer [V-GROUP]: naming in
 * item order across the writer and the usual path, the memory budget (a file beyond it
 * goes the usual way), and small files cut off mid-item.
 */
import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { FrameType } from "../../src/protocol/constants.js";
import { SMALL_FILE_MAX_BYTES } from "../../src/transfer/server/small-file-writer.js";
import { withTimeout } from "../support/with-timeout.js";
import {
  RawPeer,
  expectNoTempFiles,
  frame,
  listDir,
  plainFileItem,
  plainItemFrame,
  preamble,
  readError,
  readReceipt,
  sha256,
  startServer,
  storedFiles,
  useResources,
  waitForTempFile,
} from "./helpers.js";

const resources = useResources();

describe("small files [V-GROUP]", () => {
  it("[V-GROUP] small and large files of one name are named in item order, each whole", async () => {
    const ts = await startServer(resources, { durable: true });
    const peer = await RawPeer.connect(resources, ts.port);
    const contents = [
      randomBytes(10),
      randomBytes(SMALL_FILE_MAX_BYTES + 1),
      randomBytes(4096),
      randomBytes(0),
      randomBytes(SMALL_FILE_MAX_BYTES),
    ];
    await peer.write(
      Buffer.concat([
        preamble(),
        ...contents.map((data, index) => plainFileItem(index + 1, "same.bin", data)),
      ]),
    );
    peer.end();
    const answers = await peer.waitAnswers(contents.length);
    const names = ["same.bin", "same-1.bin", "same-2.bin", "same-3.bin", "same-4.bin"];
    for (const [index, answer] of answers.entries()) {
      const receipt = readReceipt(answer);
      expect(receipt).toMatchObject({
        id: index + 1,
        body: { savedAs: names[index], bytes: contents[index]!.length },
      });
      expect(receipt.body.sha256).toBe(sha256(contents[index]!));
      const stored = await readFile(path.join(ts.saveDir!, names[index]!));
      expect(stored.equals(contents[index]!)).toBe(true);
    }
    await expectNoTempFiles(ts.saveDir!);
  });

  it("[V-GROUP] a small file over the memory budget is written as it arrives, and stored", async () => {
    const ts = await startServer(resources, { smallFileBudgetBytes: 0 });
    const peer = await RawPeer.connect(resources, ts.port);
    const data = randomBytes(3000);
    await peer.write(
      Buffer.concat([
        preamble(),
        plainItemFrame(1, { kind: "file", name: "partial.bin", size: data.length }),
        frame(FrameType.CHUNK, data.subarray(0, 1000)),
      ]),
    );
    // Not held in memory: its partial file exists before its last chunk.
    await waitForTempFile(ts.saveDir!);
    await peer.write(frame(FrameType.LAST_CHUNK, data.subarray(1000)));
    const [answer] = await peer.waitAnswers(1);
    expect(readReceipt(answer!)).toMatchObject({ id: 1, body: { savedAs: "partial.bin" } });
    expect((await readFile(path.join(ts.saveDir!, "partial.bin"))).equals(data)).toBe(true);
  });

  it("a small file cut off mid-item: TRUNCATED, nothing stored, and its memory given back", async () => {
    // Room for exactly one small file of this size: the next one is held in memory only
    // if the first gave its reservation back.
    const size = 5000;
    const ts = await startServer(resources, { smallFileBudgetBytes: size });
    const arrived = new Promise<void>((resolve) => {
      ts.server.on("progress", (progress) => {
        if (progress.id === 1 && progress.bytes === 100) resolve();
      });
    });
    const first = await RawPeer.connect(resources, ts.port);
    await first.write(
      Buffer.concat([
        preamble(),
        plainItemFrame(1, { kind: "file", name: "cut.bin", size }),
        frame(FrameType.CHUNK, randomBytes(100)),
      ]),
    );
    // Held in memory, so no partial file shows: the server's progress says the chunk is in.
    await withTimeout(arrived, 3000, "the first chunk");
    expect(await listDir(ts.saveDir!)).toEqual([]);
    first.destroy();
    const failure = await ts.waitFailure();
    expect(failure).toMatchObject({ code: "TRUNCATED", id: 1, name: "cut.bin" });
    expect(await storedFiles(ts.saveDir!)).toEqual([]);
    await expectNoTempFiles(ts.saveDir!);

    const second = await RawPeer.connect(resources, ts.port);
    const data = randomBytes(size);
    await second.write(Buffer.concat([preamble(), plainFileItem(1, "next.bin", data)]));
    second.end();
    const [answer] = await second.waitAnswers(1);
    expect(readReceipt(answer!)).toMatchObject({ id: 1, body: { savedAs: "next.bin" } });
    expect((await readFile(path.join(ts.saveDir!, "next.bin"))).equals(data)).toBe(true);
  });

  it("[V-SIZE] a small file with more bytes than declared fails alone; the connection goes on", async () => {
    const ts = await startServer(resources);
    const peer = await RawPeer.connect(resources, ts.port);
    await peer.write(
      Buffer.concat([
        preamble(),
        plainFileItem(1, "long.bin", randomBytes(200), { size: 100 }),
        plainFileItem(2, "ok.bin", Buffer.from("fine")),
      ]),
    );
    peer.end();
    const answers = await peer.waitAnswers(2);
    expect(readError(answers[0]!)).toMatchObject({ code: "SIZE_MISMATCH", id: 1 });
    expect(readReceipt(answers[1]!)).toMatchObject({ id: 2, body: { savedAs: "ok.bin" } });
    expect(await storedFiles(ts.saveDir!)).toEqual(["ok.bin"]);
  });
});
