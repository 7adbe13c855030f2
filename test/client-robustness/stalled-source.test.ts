/**
 * Finding 13: the send loop only looked at the item's state between pieces of its
 * source, so after the server refused the item (or the connection failed) the client
 * waited for a stalled source (`(echo hello; sleep 8; echo late) | gb-client --file -`,
 * or forever with `tail -f`). Now a failure stops reading at once; a source that ends
 * because we stopped it is not an input error, and a refused item still ends with an
 * empty LAST_CHUNK while the connection lives (PROTOCOL.md [F-LAST]).
 */
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { runClient } from "../../src/cli/client-command.js";
import { ExitCode } from "../../src/cli/exit-codes.js";
import { FrameType } from "../../src/protocol/constants.js";
import { GbClient } from "../../src/transfer/client.js";
import { fakeIo, removeTempDirs, testEnv, withTimeout } from "../cli/fake-io.js";
import { SAMPLE_TEXT } from "../support/samples.js";
import { closeFakeServers, fakeServer, WAIT_MS, type Peer } from "../support/fake-server.js";

const stdins: PassThrough[] = [];

afterEach(async () => {
  for (const stdin of stdins.splice(0)) stdin.destroy();
  await closeFakeServers();
  await removeTempDirs();
});

/** Like gb-server --require-encryption: refuses a plaintext item as soon as its ITEM arrives, then stores the rest. */
function refuseFirstItem(peers: Peer[]): (peer: Peer) => void {
  return (peer) => {
    peers.push(peer);
    peer.greet();
    peer.onItemStart = (item) => {
      if (item.id === 1)
        peer.error("ENCRYPTION_REQUIRED", "this server accepts encrypted items only", 1);
    };
    peer.onItemEnd = (item) => {
      if (item.id !== 1) peer.receipt(item);
    };
  };
}

/** Drops the connection as soon as an ITEM arrives. */
function dropOnItem(peer: Peer): void {
  peer.greet();
  peer.onItemStart = () => {
    peer.socket.destroy();
  };
}

/** A stdin that has sent "hello\n" and then stalls: it never ends by itself. */
function stalledStdin(fake: { stdin: PassThrough }): PassThrough {
  stdins.push(fake.stdin);
  fake.stdin.write("hello\n");
  return fake.stdin;
}

/** Runs gb-client in-process sending a stdin that never ends. */
async function runWithStalledStdin(port: number, extra: readonly string[] = []) {
  const fake = fakeIo(await testEnv(), null);
  const stdin = stalledStdin(fake);
  const code = await withTimeout(
    runClient(["--port", String(port), "--file", "-", ...extra], fake.io),
    WAIT_MS,
    "runClient with a stalled stdin",
  );
  return { fake, code, stdin };
}

describe("gb-client --file - with a stalled stdin", () => {
  it("refused at once: exits 4 at once, ends the item with an empty LAST_CHUNK, the next item is stored", async () => {
    const peers: Peer[] = [];
    const port = await fakeServer(refuseFirstItem(peers));
    const { fake, code, stdin } = await runWithStalledStdin(port, [
      "--json",
      "--file",
      SAMPLE_TEXT,
    ]);
    expect(code).toBe(ExitCode.REJECTED);
    expect(fake.stdout.json).toEqual([
      expect.objectContaining({ event: "failed", id: 1, code: "ENCRYPTION_REQUIRED" }),
      expect.objectContaining({ event: "stored", id: 2, name: "notes.txt" }),
    ]);
    expect(fake.stderr.text).toBe("");
    // [F-LAST]: item 1 ended with exactly one frame, an empty LAST_CHUNK.
    const [first, second] = peers[0]!.items;
    expect(first!.frames).toEqual([{ type: FrameType.LAST_CHUNK, payload: Buffer.alloc(0) }]);
    expect(second!.ended).toBe(true);
    // We stopped reading stdin: it was destroyed, not left pending.
    expect(stdin.destroyed).toBe(true);
  });

  it("refused at once, without --json: one error line, not an input error", async () => {
    const port = await fakeServer(refuseFirstItem([]));
    const { fake, code } = await runWithStalledStdin(port);
    expect(code).toBe(ExitCode.REJECTED);
    expect(fake.stderr.lines).toEqual([
      "error: the server refused stdin: this server accepts encrypted items only",
      "hint: this server takes only encrypted connections from here: send with --encrypt (and the server's key)",
    ]);
  });

  it("the connection drops: exits 3 at once, reported as connection lost, not as unreadable input", async () => {
    const port = await fakeServer(dropOnItem);
    const { fake, code } = await runWithStalledStdin(port);
    expect(code).toBe(ExitCode.NETWORK);
    expect(fake.stderr.lines).toEqual([
      expect.stringMatching(/^error: (connection lost: |the server closed the connection)/),
    ]);
    expect(fake.stderr.text).not.toContain("cannot read");
  });
});

describe("GbClient.sendStream with a source that never yields again", () => {
  it("any async iterable: the refusal settles the item and close() returns", async () => {
    const peers: Peer[] = [];
    const port = await fakeServer(refuseFirstItem(peers));
    const client = await GbClient.connect({ host: "127.0.0.1", port });
    async function* stalled(): AsyncGenerator<Uint8Array> {
      yield Buffer.from("hello\n");
      await new Promise(() => undefined); // never settles
    }
    const first = client.sendStream(stalled(), { name: "stalled", size: null });
    const second = client.sendFile(SAMPLE_TEXT);
    await expect(withTimeout(first, WAIT_MS, "the refusal")).rejects.toMatchObject({
      code: "ENCRYPTION_REQUIRED",
    });
    await expect(withTimeout(second, WAIT_MS, "the second receipt")).resolves.toMatchObject({
      name: "notes.txt",
      bytes: 319,
    });
    await withTimeout(client.close(), WAIT_MS, "close()");
    expect(peers[0]!.items[0]!.frames).toEqual([
      { type: FrameType.LAST_CHUNK, payload: Buffer.alloc(0) },
    ]);
  });
});
