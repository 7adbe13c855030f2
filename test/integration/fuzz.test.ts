/**
 * Random-split fuzz: a valid session written to a raw socket in pieces cut at random
 * points must always be received exactly (a RECEIPT per item whose sha256 matches), on
 * a plain connection and in an encrypted session, where the cuts fall anywhere in the
 * records [R-RECORD].
 */
import { randomBytes } from "node:crypto";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { FrameType } from "../../src/protocol/constants.js";
import {
  RawPeer,
  Resources,
  chunkFrames,
  plainDictItem,
  plainItemFrame,
  preamble,
  readReceipt,
  sha256,
  startServer,
  storedFiles,
  type TestServer,
} from "./helpers.js";

const resources = new Resources();
let ts: TestServer;

beforeAll(async () => {
  ts = await startServer(resources, { previewBytes: 0 });
});
afterAll(() => resources.release());

/** Cuts `data` into pieces of the given sizes (cycling), the last piece taking the rest. */
function cutSizes(data: Buffer, sizes: readonly number[]): Buffer[] {
  const pieces: Buffer[] = [];
  let offset = 0;
  for (let i = 0; offset < data.length; i++) {
    const size = sizes[i % sizes.length]!;
    pieces.push(data.subarray(offset, offset + size));
    offset += size;
  }
  return pieces;
}

describe("random-split fuzz", () => {
  let run = 0;
  for (const encrypted of [false, true]) {
    it(`a session split at random points always yields matching receipts (${encrypted ? "encrypted" : "plain"})`, async () => {
      const before = ts.items.length;
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 0, max: 200_000 }),
          fc.array(fc.integer({ min: 1, max: 65_536 }), { minLength: 1, maxLength: 5 }),
          fc.boolean(),
          fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 0, maxLength: 25 }),
          async (fileSize, chunkSizes, knownSize, cutPoints) => {
            run++;
            const file = randomBytes(fileSize);
            const dict = Buffer.from(
              JSON.stringify({ run, list: [1, 2, 3], text: "x".repeat(run) }),
            );
            const frames = Buffer.concat([
              plainItemFrame(1, {
                kind: "file",
                name: `fuzz-${run}.bin`,
                size: knownSize ? file.length : null,
              }),
              chunkFrames(cutSizes(file, chunkSizes)),
              plainDictItem(2, `fuzz-${run}`, "json", dict),
            ]);
            const peer = encrypted
              ? await RawPeer.session(resources, ts.port, ts.masterKey)
              : await RawPeer.connect(resources, ts.port);
            const session = encrypted ? peer.seal(frames) : Buffer.concat([preamble(), frames]);
            // Distinct, sorted cut offsets inside the session.
            const offsets = [...new Set(cutPoints.map((p) => Math.floor(p * session.length)))]
              .filter((o) => o > 0 && o < session.length)
              .sort((a, b) => a - b);

            try {
              let start = 0;
              for (const offset of [...offsets, session.length]) {
                // Each piece is handed to the OS before the next is written.
                await peer.write(session.subarray(start, offset));
                start = offset;
              }
              peer.end();
              await peer.waitClosed();
              expect(peer.parseError).toBeUndefined();
              expect(peer.recordError).toBeUndefined();
              const answers = peer.answers();
              expect(answers.map((f) => f.type)).toEqual([FrameType.RECEIPT, FrameType.RECEIPT]);
              const [fileReceipt, dictReceipt] = answers.map((f) => readReceipt(f));
              expect(fileReceipt).toMatchObject({
                id: 1,
                body: { bytes: file.length, sha256: sha256(file) },
              });
              expect(dictReceipt).toMatchObject({
                id: 2,
                body: { bytes: dict.length, sha256: sha256(dict) },
              });
            } finally {
              peer.destroy();
            }
          },
        ),
        { numRuns: 30 },
      );
      expect(ts.failures).toEqual([]);
      expect(ts.items.length - before).toBe(60);
      expect(ts.items.slice(before).every((item) => item.session.encrypted === encrypted)).toBe(
        true,
      );
      expect(await storedFiles(ts.saveDir!)).toHaveLength(before + 60);
    });
  }
});
