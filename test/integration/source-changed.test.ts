/**
 * A file that changes while it is being sent: one that grows past the size it declared
 * is read no further, one that ends short is ended there; the server refuses either
 * (SIZE_MISMATCH), and the client reports the file's doing as an input error, not as the
 * server's refusal. The connection goes on.
 */
import { describe, expect, it } from "vitest";
import { ErrorCode } from "../../src/errors.js";
import { connectClient, startServer, storedFiles, useResources } from "./helpers.js";

const resources = useResources();

const PIECE = 64 * 1024;
const DECLARED = 100_000;

/** `pieces` pieces of 64 KiB, counting in `pulled` how many were asked for. */
async function* source(pieces: number, pulled: { count: number }): AsyncGenerator<Buffer> {
  for (let index = 0; index < pieces; index++) {
    pulled.count++;
    yield Buffer.alloc(PIECE, index);
  }
}

describe("a source that changes while it is sent", () => {
  it("grown past its size: read no further, an input error; the connection goes on", async () => {
    const ts = await startServer(resources);
    const client = await connectClient(resources, ts);
    const pulled = { count: 0 };
    const sent = client.sendStream(source(1000, pulled), { name: "growing.log", size: DECLARED });
    await expect(sent).rejects.toMatchObject({
      code: ErrorCode.INPUT_UNREADABLE,
      message:
        "growing.log changed while it was being sent (it grew past the 100000 bytes it had); the server discarded it",
    });
    // The piece that went past the size is the last one read.
    expect(pulled.count).toBe(Math.ceil((DECLARED + 1) / PIECE));
    await expect(
      client.sendDict({ after: true }, { format: "json", name: "after" }),
    ).resolves.toMatchObject({ kind: "dict" });
    await client.close();
    expect(await storedFiles(ts.saveDir ?? "")).toEqual(["after.json"]);
  });

  it("ended short of its size: an input error saying how far it got", async () => {
    const ts = await startServer(resources);
    const client = await connectClient(resources, ts);
    const sent = client.sendStream(source(1, { count: 0 }), { name: "cut.bin", size: DECLARED });
    await expect(sent).rejects.toMatchObject({
      code: ErrorCode.INPUT_UNREADABLE,
      message: `cut.bin changed while it was being sent (it ended after ${PIECE} of its 100000 bytes); the server discarded it`,
    });
    await client.close();
  });

  it("exactly its size: stored", async () => {
    const ts = await startServer(resources);
    const client = await connectClient(resources, ts);
    const sent = await client.sendStream(source(2, { count: 0 }), {
      name: "whole.bin",
      size: 2 * PIECE,
    });
    expect(sent).toMatchObject({ bytes: 2 * PIECE });
    await client.close();
  });
});
