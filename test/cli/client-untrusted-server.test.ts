/**
 * gb-client against a scripted server speaking the protocol (or not), to check what
 * the client prints and returns when the server says something unexpected. Whatever a
 * server sends is untrusted text and must never reach the terminal raw.
 */
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runClient } from "../../src/cli/client-command.js";
import { ExitCode } from "../../src/cli/exit-codes.js";
import { encodeFrame } from "../../src/framing/frame.js";
import { FrameType } from "../../src/protocol/constants.js";
import {
  encodeError,
  receiptText,
  type ItemMeta,
  type ReceiptBody,
} from "../../src/protocol/messages.js";
import { closeFakeServers, fakeServer } from "../support/fake-server.js";
import { SAMPLE_TEXT as NOTES } from "../support/samples.js";
import { sha256 } from "../support/sha256.js";
import { fakeIo, removeTempDirs, tempDir, testEnv, withTimeout, WAIT_MS } from "./fake-io.js";

afterEach(async () => {
  await closeFakeServers();
  await removeTempDirs();
});

interface ReceivedItem {
  readonly id: number;
  readonly meta: ItemMeta;
  readonly data: Buffer;
}

/** What the scripted server answers to a complete plaintext item: one frame, or null to drop the connection. */
type Answer = (item: ReceivedItem) => Buffer | null;

/** A plaintext-only gb-transfer server that answers each complete item with `answer`. */
function scriptedServer(answer: Answer): Promise<number> {
  return fakeServer((peer) => {
    peer.greet({ server: "scripted" });
    peer.onItemEnd = (item) => {
      const data = Buffer.concat(item.frames.map((frame) => frame.payload));
      // Trees are sent file by file here (--no-batch): every item is one item.
      const reply = answer({ id: item.id, meta: item.meta as ItemMeta, data });
      if (reply === null) peer.socket.destroy();
      else peer.socket.write(reply);
    };
  });
}

function receipt(item: ReceivedItem, overrides: Partial<ReceiptBody> = {}): Buffer {
  const body: ReceiptBody = {
    kind: item.meta.kind,
    name: item.meta.name,
    bytes: item.data.length,
    sha256: sha256(item.data),
    savedAs: item.meta.name,
    ...overrides,
  };
  return encodeFrame(FrameType.RECEIPT, Buffer.from(receiptText({ id: item.id, receipt: body })));
}

async function run(port: number, extra: string[] = []) {
  const fake = fakeIo(await testEnv());
  const code = await withTimeout(
    runClient(["--host", "127.0.0.1", "--port", String(port), "--file", NOTES, ...extra], fake.io),
    WAIT_MS,
    "runClient",
  );
  return { code, stdout: fake.stdout, stderr: fake.stderr };
}

const ESC = 0x1b;
const BEL = 0x07;

describe("gb-client facing an untrusted server", () => {
  it("[CLI-INTERRUPT] [RES-HAVE] Ctrl-C while a tree's questions wait for their answers: exit 130 at once", async () => {
    let asked: () => void = () => undefined;
    const haveArrived = new Promise<void>((resolve) => {
      asked = resolve;
    });
    const port = await fakeServer((peer) => {
      peer.greet({ server: "silent" });
      // Never answers a HAVE.
      peer.onHave = () => {
        asked();
        return true;
      };
    });
    const root = path.join(await tempDir("gb-cli-tree-"), "t");
    await mkdir(root);
    await writeFile(path.join(root, "a"), "a");
    const fake = fakeIo(await testEnv());
    const interrupt = new AbortController();
    const running = runClient(["--port", String(port), "--file", root], fake.io, interrupt.signal);
    await withTimeout(haveArrived, WAIT_MS, "the HAVE");
    interrupt.abort();
    expect(await withTimeout(running, WAIT_MS, "gb-client to stop")).toBe(ExitCode.INTERRUPTED);
  });

  it("[RES-HAVE] a server that drops the connection while a tree's questions are answered: every entry fails, once printed, exit 4", async () => {
    const port = await fakeServer((peer) => {
      peer.greet({ server: "dropping" });
      // The first HAVE answered (its entries go), the connection dropped at the second.
      peer.onHave = (count) => {
        if (count === 1) return false;
        peer.socket.destroy();
        return true;
      };
    });
    const root = path.join(await tempDir("gb-cli-tree-"), "t");
    await mkdir(root);
    for (let index = 0; index < 250; index++) {
      await writeFile(path.join(root, `f${String(index).padStart(3, "0")}`), `${index}`);
    }
    const fake = fakeIo(await testEnv());
    const argv = ["--port", String(port), "--file", root];
    const code = await withTimeout(runClient(argv, fake.io), WAIT_MS, "gb-client");
    expect(code).toBe(ExitCode.NETWORK);
    const errors = fake.stderr.text.split("\n").filter((line) => line.startsWith("error:"));
    expect(errors).toHaveLength(1);
    // The tree's summary counts every entry failed, the sent ones and those never asked about.
    expect(fake.stdout.text).toMatch(/0 of 250 files.* 251 failed/);
  });

  it("a matching receipt: exit 0 and the usual receipt line", async () => {
    const port = await scriptedServer((item) => receipt(item));
    const { code, stdout } = await run(port);
    expect(code).toBe(ExitCode.OK);
    expect(stdout.text).toMatch(
      /^✔ file notes\.txt stored as notes\.txt · 319 B in \d+ ms \([^)]+\/s\) · sha256 [0-9a-f]{64}\n$/,
    );
  });

  // BUG: client-command.ts reportStored() prints receipt.savedAs, a string chosen by the
  // server, without escapeTerminalLine(), so a server can write terminal control
  // sequences (retitle the window, clear the screen, …) to the user's terminal.
  it("escapes control characters in the server's savedAs before printing it", async () => {
    const hostile = "notes.txt\x1b]0;pwned\x07\x1b[2J\x1b[1A\r\u202egnp.exe";
    const port = await scriptedServer((item) => receipt(item, { savedAs: hostile }));
    const { code, stdout } = await run(port);
    expect(code).toBe(ExitCode.OK);
    expect(stdout.buffer.includes(ESC)).toBe(false);
    expect(stdout.buffer.includes(BEL)).toBe(false);
    expect(stdout.text).not.toContain("\r");
    expect(stdout.text).not.toContain("\u202e");
    expect(stdout.text).toContain("stored as notes.txt\\u001b]0;pwned\\u0007");
  });

  it("--json output carries the server's savedAs verbatim but JSON-escaped", async () => {
    const hostile = "a\x1b[2Jb";
    const port = await scriptedServer((item) => receipt(item, { savedAs: hostile }));
    const { code, stdout } = await run(port, ["--json"]);
    expect(code).toBe(ExitCode.OK);
    expect(stdout.buffer.includes(ESC)).toBe(false);
    expect(stdout.json[0]).toMatchObject({ event: "stored", savedAs: hostile });
  });

  it("a receipt with the wrong hash or size exits 6 (receipt mismatch)", async () => {
    const port = await scriptedServer((item) => receipt(item, { sha256: "0".repeat(64) }));
    const { code, stdout, stderr } = await run(port);
    expect(code).toBe(ExitCode.INTEGRITY);
    expect(stdout.text).toBe("");
    expect(stderr.text).toMatch(
      /^error: the server's receipt for notes\.txt does not match what was sent/,
    );

    const port2 = await scriptedServer((item) => receipt(item, { bytes: item.data.length + 1 }));
    const json = await run(port2, ["--json"]);
    expect(json.code).toBe(ExitCode.INTEGRITY);
    expect(json.stdout.json).toEqual([
      expect.objectContaining({ event: "failed", id: 1, code: "INTEGRITY_MISMATCH" }),
    ]);
  });

  it("an item refused with an unknown code exits 4, and the message is escaped", async () => {
    const port = await scriptedServer((item) =>
      encodeFrame(
        FrameType.ERROR,
        encodeError({ code: "SOMETHING_NEW", message: "no \x1b[31mway\x1b[0m\x07", id: item.id }),
      ),
    );
    const { code, stdout, stderr } = await run(port);
    expect(code).toBe(ExitCode.REJECTED);
    expect(stdout.text).toBe("");
    expect(stderr.buffer.includes(ESC)).toBe(false);
    expect(stderr.buffer.includes(BEL)).toBe(false);
    expect(stderr.text).toContain("error: the server refused notes.txt: no \\u001b[31mway");
  });

  it("a malformed RECEIPT is a protocol failure: exit 8, never 'refused by the server'", async () => {
    const port = await scriptedServer(() =>
      encodeFrame(FrameType.RECEIPT, Buffer.from('{"id":1,"receipt":{"kind":"file"}}')),
    );
    const { code, stdout, stderr } = await run(port, ["--json"]);
    expect(code).toBe(ExitCode.PROTOCOL);
    expect(stdout.json).toEqual([
      expect.objectContaining({ event: "failed", id: 1, code: "MALFORMED_MESSAGE" }),
    ]);
    expect(stderr.text).not.toContain("refused");
  });

  it("a receipt for an item never sent is a protocol failure: exit 8", async () => {
    const port = await scriptedServer((item) => receipt({ ...item, id: item.id + 41 }, {}));
    const { code, stdout } = await run(port, ["--json"]);
    expect(code).toBe(ExitCode.PROTOCOL);
    expect(stdout.json).toEqual([
      expect.objectContaining({ event: "failed", id: 1, code: "UNEXPECTED_FRAME" }),
    ]);
  });

  it("a server that drops the connection before the receipt: exit 3", async () => {
    const port = await scriptedServer(() => null);
    const { code, stdout, stderr } = await run(port, ["--json"]);
    expect(code).toBe(ExitCode.NETWORK);
    expect(stdout.json).toEqual([
      expect.objectContaining({ event: "failed", id: 1, code: "CONNECTION_LOST" }),
    ]);
    expect(stderr.text).toBe("");
  });

  it("a peer that is not a gb-transfer server exits 3", async () => {
    const port = await fakeServer((peer) => {
      peer.socket.end("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n");
    });
    const { code, stderr } = await run(port);
    expect(code).toBe(ExitCode.NETWORK);
    expect(stderr.text).toMatch(/^error: /);
  });
});

describe("[T-BATCH] a server older than batches", () => {
  it("refuses the first batch as malformed: exit 4 (refused) with a hint to --no-batch, which then sends the tree", async () => {
    // An older server: "files" is no kind it knows, which ends the connection; every
    // other item is stored (a faithful receipt).
    const port = await fakeServer((peer) => {
      peer.greet({ server: "older" });
      peer.onItemStart = (item) => {
        if (item.meta.kind !== "files") return;
        peer.error(
          "MALFORMED_MESSAGE",
          'malformed message: "kind" must be one of dict, file, dir',
          undefined,
        );
        peer.socket.end();
      };
      peer.onItemEnd = (item) => {
        if (item.meta.kind !== "files") peer.receipt(item, null);
      };
    });
    const root = path.join(await tempDir("gb-cli-tree-"), "t");
    await mkdir(root);
    for (const name of ["a", "b", "c"]) await writeFile(path.join(root, name), name);
    const argv = ["--port", String(port), "--file", root, "--no-resume"];
    const refused = fakeIo(await testEnv());
    expect(await withTimeout(runClient(argv, refused.io), WAIT_MS, "gb-client")).toBe(
      ExitCode.REJECTED,
    );
    expect(refused.stderr.text).toContain("hint: a gb-server older than this client");
    expect(refused.stderr.text).toContain("--no-batch");
    const sent = fakeIo(await testEnv());
    const code = await withTimeout(
      runClient([...argv, "--no-batch"], sent.io),
      WAIT_MS,
      "gb-client",
    );
    expect(sent.stderr.text).toBe("");
    expect(code).toBe(ExitCode.OK);
  });
});
