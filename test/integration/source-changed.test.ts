/**
 * A file that changes size between the moment it is looked at and the moment it is read:
 * one that grew is read no further than just past its size, one that ended short is
 * ended there; the server refuses either (SIZE_MISMATCH), and the client reports the
 * file's doing as an input error, not as the server's refusal. The connection goes on.
 * (A stream given a wrong size by its caller stays SIZE_MISMATCH: roundtrip.test.ts.)
 */
import { appendFile, truncate, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/errors.js";
import { prepareFile } from "../../src/transfer/client/prepared-item.js";
import { TempDirs } from "../support/temp-dirs.js";
import { connectClient, startServer, storedFiles, useResources } from "./helpers.js";

const resources = useResources();
const temp = new TempDirs();
afterEach(async () => {
  await temp.removeAll();
});

/** Sizes read whole (a small file) and read in pieces (a larger one). */
const SIZES = [4_000, 300_000];

describe("a file that changes size before it is read", () => {
  for (const size of SIZES) {
    it(`of ${size} bytes, grown or cut short: an input error saying so; the connection goes on`, async () => {
      const ts = await startServer(resources);
      const client = await connectClient(resources, ts);
      const dir = await temp.make("gb-changed-");
      const grown = path.join(dir, "grown.log");
      const cut = path.join(dir, "cut.bin");
      await writeFile(grown, Buffer.alloc(size, 1));
      await writeFile(cut, Buffer.alloc(size, 2));
      // Looked at (its size taken) now, read when its turn comes: after the change.
      const grownItem = await prepareFile(grown);
      const cutItem = await prepareFile(cut);
      await appendFile(grown, Buffer.alloc(10 * size, 3));
      await truncate(cut, size / 2);
      await expect(client.send(grownItem)).rejects.toMatchObject({
        code: ErrorCode.INPUT_UNREADABLE,
        message: `grown.log changed while it was being sent (it grew past the ${size} bytes it had); the server discarded it`,
      });
      await expect(client.send(cutItem)).rejects.toMatchObject({
        code: ErrorCode.INPUT_UNREADABLE,
        message: `cut.bin changed while it was being sent (it ended after ${size / 2} of its ${size} bytes); the server discarded it`,
      });
      await expect(
        client.sendDict({ after: true }, { format: "json", name: "after" }),
      ).resolves.toMatchObject({ kind: "dict" });
      await client.close();
      expect(await storedFiles(ts.saveDir ?? "")).toEqual(["after.json"]);
    });
  }
});
