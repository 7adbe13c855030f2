/**
 * Finding 21: in `--json` output, "failed" events carried the item's position and
 * "stored" events its wire id, which differ once an item fails before it goes out (its
 * wire id is never used). Both now carry the position: 1-based, in the order items are
 * sent, the dictionary first, then the files.
 */
import { copyFile, unlink } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runClient } from "../../src/cli/client-command.js";
import { ExitCode } from "../../src/cli/exit-codes.js";
import { fakeIo, removeTempDirs, tempDir, testEnv, withTimeout } from "../cli/fake-io.js";
import { SAMPLE_DICT, SAMPLE_IMAGE, SAMPLE_TEXT } from "../support/samples.js";
import { closeFakeServers, fakeServer, storingScript, WAIT_MS } from "../support/fake-server.js";

afterEach(async () => {
  await closeFakeServers();
  await removeTempDirs();
});

describe("--json ids", () => {
  it("are positions for both stored and failed events, even when an item never went out", async () => {
    // A file that passes the checks before connecting, then disappears: the fake server
    // deletes it when the client connects, before greeting, so sending it fails locally
    // and it takes no wire id.
    const vanishing = path.join(await tempDir("gb-ids-"), "vanishing.txt");
    await copyFile(SAMPLE_TEXT, vanishing);
    const wireIds: number[] = [];
    const port = await fakeServer((peer) => {
      void unlink(vanishing).then(() => {
        storingScript(peer);
      });
      peer.onItemStart = (item) => {
        wireIds.push(item.id);
      };
    });
    const fake = fakeIo(await testEnv());
    const code = await withTimeout(
      runClient(
        [
          "--port",
          String(port),
          "--json",
          // Given files first: the dictionary still goes out (and is numbered) first.
          "--file",
          vanishing,
          "--file",
          SAMPLE_IMAGE,
          "--dict",
          SAMPLE_DICT,
        ],
        fake.io,
      ),
      WAIT_MS,
      "runClient",
    );
    expect(code).toBe(ExitCode.INPUT);
    expect(fake.stdout.json).toEqual([
      expect.objectContaining({ event: "stored", id: 1, kind: "dict", name: "data.json" }),
      expect.objectContaining({
        event: "failed",
        id: 2,
        // [CLI-JSON-FIELDS] the item's name, as in stored; what the user gave is its path.
        name: path.basename(vanishing),
        path: vanishing,
        code: "INPUT_UNREADABLE",
      }),
      expect.objectContaining({ event: "stored", id: 3, kind: "file", name: "image.png" }),
    ]);
    // On the wire the image was item 2: the vanished file never went out.
    expect(wireIds).toEqual([1, 2]);
  });
});
