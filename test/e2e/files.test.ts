import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { encodeDict } from "../../src/codecs/dict-format.js";
import {
  SAMPLE_DICT,
  SAMPLE_IMAGE,
  SAMPLE_TEXT,
  itemEvents,
  runClient,
  sample,
  sha256,
  startSavingServer,
  tempDir,
} from "./harness.js";

const MIB = 1024 * 1024;

/** Input files, created once (outside the per-test temp dirs, which cleanup removes). */
let inputs: { path: string; data: Buffer }[];

beforeAll(async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "gb-e2e-inputs-"));
  const made: Record<string, Buffer> = {
    "random.bin": randomBytes(100_003),
    "two-chunks.bin": randomBytes(2 * 65_536),
    "empty.txt": Buffer.alloc(0),
    "big.bin": randomBytes(6 * MIB),
  };
  for (const [name, data] of Object.entries(made)) await writeFile(path.join(dir, name), data);
  inputs = [
    { path: SAMPLE_TEXT, data: await readFile(SAMPLE_TEXT) },
    { path: SAMPLE_IMAGE, data: await readFile(SAMPLE_IMAGE) },
    ...Object.entries(made).map(([name, data]) => ({ path: path.join(dir, name), data })),
  ];
  return () => rm(dir, { recursive: true, force: true });
});

describe.each([
  ["plain", false],
  ["--encrypt", true],
])("files, %s", (_label, encrypt) => {
  it("text, binary, empty and 6 MiB files arrive byte for byte, with correct receipts", async () => {
    const { env, saveDir, server } = await startSavingServer(["--json"]);
    expect(server.listening).toMatchObject({
      event: "listening",
      host: "127.0.0.1",
      port: server.port,
      saveDir,
      keyFile: path.join(env["XDG_CONFIG_HOME"]!, "gb-transfer", "key"),
    });

    const args = ["--port", String(server.port), "--json"];
    for (const input of inputs) args.push("--file", input.path);
    if (encrypt) args.push("--encrypt");
    const client = await runClient(args, { env, timeoutMs: 30_000 });
    expect(client.stderr).toBe("");
    expect(client.code).toBe(0);

    const receipts = itemEvents(client.stdout);
    expect(receipts).toHaveLength(inputs.length);
    for (const [index, input] of inputs.entries()) {
      const receipt = receipts[index]!;
      expect(receipt).toEqual({
        event: "stored",
        // Ids are checked apart: see "items go on the wire in the order given".
        id: expect.any(Number),
        kind: "file",
        name: path.basename(input.path),
        path: input.path,
        encrypted: encrypt,
        bytes: input.data.length,
        sha256: sha256(input.data),
        savedAs: path.basename(input.path),
        // [M-RECEIPT-STORED] a file is stored as it travelled: no other hash.
        storedSha256: null,
        // [RES-ASK] a file of 1 MiB or more asked to resume; the server held nothing.
        ...(input.data.length >= 1024 * 1024 ? { resumed: 0 } : {}),
        durationMs: expect.any(Number),
        bytesPerSecond: expect.any(Number),
      });
      const saved = await readFile(path.join(saveDir, receipt["savedAs"] as string));
      expect(saved.length).toBe(input.data.length);
      expect(saved.equals(input.data)).toBe(true);
    }
    // Nothing else (no temporary files) is left in the save directory; the state directory
    // of the file that asked to resume holds nothing once it is stored [RES-STATE].
    expect((await readdir(saveDir)).filter((name) => name !== ".gb-transfer-state").sort()).toEqual(
      inputs.map((input) => path.basename(input.path)).sort(),
    );
    expect(await readdir(path.join(saveDir, ".gb-transfer-state"))).toEqual([]);

    expect(receipts.map((r) => r["id"]).sort((a, b) => Number(a) - Number(b))).toEqual(
      inputs.map((_, index) => index + 1),
    );

    // One connection carried every item.
    const items = await server.stdout.waitFor((out) => {
      const found = out.json.filter((e) => e["event"] === "item");
      return found.length === inputs.length ? found : undefined;
    }, "every item event");
    expect(items.map((e) => [e["connection"], e["name"], e["encrypted"]]).sort()).toEqual(
      inputs.map((input) => [1, path.basename(input.path), encrypt]).sort(),
    );
    expect(await server.stop()).toEqual({ code: 0, signal: null });
  });
});

describe("several items in one run", () => {
  it("--dict and several --file go over one connection, receipts in the order given", async () => {
    const { env, saveDir, server } = await startSavingServer(["--json"]);
    const emptyDir = await tempDir("gb-e2e-in-");
    const empty = path.join(emptyDir, "nothing");
    await writeFile(empty, "");

    const client = await runClient(
      [
        "--port",
        String(server.port),
        "--json",
        "--file",
        SAMPLE_TEXT,
        "--dict",
        SAMPLE_DICT,
        "--format",
        "binary",
        "--file",
        SAMPLE_IMAGE,
        "--file",
        empty,
        "--file",
        SAMPLE_TEXT,
      ],
      { env },
    );
    expect(client.code).toBe(0);
    const receipts = itemEvents(client.stdout);
    // Receipts are reported in the order given (the dictionary, sent first, leads).
    // Item ids and which copy of notes.txt gets the plain name are checked separately
    // (see "items go on the wire in the order given" below).
    expect(receipts.map((r) => [r["kind"], r["name"]])).toEqual([
      ["dict", "data.json"],
      ["file", "notes.txt"],
      ["file", "image.png"],
      ["file", "nothing"],
      ["file", "notes.txt"],
    ]);
    expect(receipts.map((r) => r["id"]).sort()).toEqual([1, 2, 3, 4, 5]);
    expect(receipts[0]!["id"]).toBe(1);
    expect(receipts.map((r) => r["savedAs"])).toEqual([
      "data.json",
      expect.stringMatching(/^notes(-1)?\.txt$/),
      "image.png",
      "nothing",
      expect.stringMatching(/^notes(-1)?\.txt$/),
    ]);
    expect(receipts[0]!["sha256"]).toBe(sha256(encodeDict(sample, "msgpack")));

    expect(JSON.parse(await readFile(path.join(saveDir, "data.json"), "utf8"))).toEqual(sample);
    const notes = await readFile(SAMPLE_TEXT);
    expect((await readFile(path.join(saveDir, "notes.txt"))).equals(notes)).toBe(true);
    expect((await readFile(path.join(saveDir, "notes-1.txt"))).equals(notes)).toBe(true);
    expect((await readFile(path.join(saveDir, "nothing"))).length).toBe(0);

    await server.waitForEvent((e) => e["event"] === "item" && e["id"] === 5, "item 5");
    const connections = new Set(
      server.stdout.json.filter((e) => e["event"] === "item").map((e) => e["connection"]),
    );
    expect([...connections]).toEqual([1]);
    expect(await server.stop()).toEqual({ code: 0, signal: null });
  });
});

describe("standard input", () => {
  it("--file - sends piped bytes (plain and encrypted), stored as 'stdin'", async () => {
    const { env, saveDir, server } = await startSavingServer(["--json"]);
    const data = randomBytes(300_001);

    for (const [index, encrypt] of [false, true].entries()) {
      const args = ["--port", String(server.port), "--json", "--file", "-"];
      const client = await runClient(encrypt ? [...args, "--encrypt"] : args, {
        env,
        input: data,
      });
      expect(client.stderr).toBe("");
      expect(client.code).toBe(0);
      const savedAs = index === 0 ? "stdin" : "stdin-1";
      expect(itemEvents(client.stdout)).toEqual([
        {
          event: "stored",
          id: 1,
          kind: "file",
          name: "stdin",
          path: "-",
          encrypted: encrypt,
          bytes: data.length,
          sha256: sha256(data),
          savedAs,
          storedSha256: null,
          durationMs: expect.any(Number),
          bytesPerSecond: expect.any(Number),
        },
      ]);
      expect((await readFile(path.join(saveDir, savedAs))).equals(data)).toBe(true);
    }
    expect(await server.stop()).toEqual({ code: 0, signal: null });
  });

  it("--file - with empty stdin stores an empty file", async () => {
    const { env, saveDir, server } = await startSavingServer(["--json"]);
    const client = await runClient(["--port", String(server.port), "--json", "--file", "-"], {
      env,
      input: "",
    });
    expect(client.code).toBe(0);
    expect(itemEvents(client.stdout)[0]).toMatchObject({
      bytes: 0,
      sha256: sha256(Buffer.alloc(0)),
    });
    expect((await readFile(path.join(saveDir, "stdin"))).length).toBe(0);
  });

  it("--dict - sends piped JSON, stored as stdin.json", async () => {
    const { env, saveDir, server } = await startSavingServer(["--json"]);
    const client = await runClient(
      ["--port", String(server.port), "--json", "--dict", "-", "--format", "xml"],
      { env, input: await readFile(SAMPLE_DICT) },
    );
    expect(client.stderr).toBe("");
    expect(client.code).toBe(0);
    expect(itemEvents(client.stdout)).toEqual([
      expect.objectContaining({ kind: "dict", name: "stdin.json", savedAs: "stdin.json" }),
    ]);
    expect(JSON.parse(await readFile(path.join(saveDir, "stdin.json"), "utf8"))).toEqual(sample);
    const event = await server.waitForEvent((e) => e["event"] === "item", "the item");
    expect(event).toMatchObject({ kind: "dict", format: "xml", name: "stdin.json" });
    expect(event["value"]).toEqual(sample);
  });
});

describe("items go on the wire in the order given", () => {
  // BUG (src/transfer/client.ts, GbClient.sendFile): the item id and the place in the
  // send queue are taken only after `await stat(filePath)`, whereas sendStream/sendDict
  // take them at once. So `--file notes.txt --file -` sends stdin as item 1 and the file
  // as item 2, and several --file items are numbered (and stored) in the order their
  // stat() calls happen to finish.
  it("--file PATH --file - : the file is item 1 and stdin item 2", async () => {
    const { env, server } = await startSavingServer(["--json"]);
    const client = await runClient(
      ["--port", String(server.port), "--json", "--file", SAMPLE_TEXT, "--file", "-"],
      { env, input: "from stdin\n" },
    );
    expect(client.code).toBe(0);
    const receipts = itemEvents(client.stdout);
    expect(receipts.map((r) => [r["id"], r["name"]])).toEqual([
      [1, "notes.txt"],
      [2, "stdin"],
    ]);
    await server.waitForEvent((e) => e["event"] === "item" && e["id"] === 2, "item 2");
    const items = server.stdout.json.filter((e) => e["event"] === "item");
    expect(items.map((e) => e["name"])).toEqual(["notes.txt", "stdin"]);
  });
});
