import { randomBytes } from "node:crypto";
import { readFile, readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  SAMPLE_DICT,
  SAMPLE_IMAGE,
  SAMPLE_TEXT,
  exists,
  freshEnv,
  itemEvents,
  runClient,
  runServerToExit,
  sha256,
  startSavingServer,
  startServer,
  tempDir,
} from "./harness.js";

const ESC = 0x1b;
const BEL = 0x07;

describe("--no-print", () => {
  it("prints no item on stdout (status lines stay on stderr)", async () => {
    const { env, saveDir, server } = await startSavingServer(["--no-print"]);
    expect(server.stderr.text).toContain("not printing");
    const client = await runClient(
      ["--port", String(server.port), "--dict", SAMPLE_DICT, "--file", SAMPLE_TEXT],
      { env },
    );
    expect(client.code).toBe(0);
    // Stopping the server flushes everything it will ever print.
    expect(await server.stop()).toEqual({ code: 0, signal: null });
    expect(server.stdout.text).toBe("");
    expect((await readdir(saveDir)).sort()).toEqual(["data.json", "notes.txt"]);
  });

  it("with --json, item events carry no dictionary value", async () => {
    const { env, server } = await startSavingServer(["--no-print", "--json"]);
    const client = await runClient(["--port", String(server.port), "--dict", SAMPLE_DICT], {
      env,
    });
    expect(client.code).toBe(0);
    const event = await server.waitForEvent((e) => e["event"] === "item", "the item");
    expect(event).toMatchObject({ kind: "dict", savedAs: "data.json" });
    expect(event).not.toHaveProperty("value");
  });
});

describe("--no-save", () => {
  it("writes nothing, yet the client exits 0 with savedAs null", async () => {
    const env = await freshEnv();
    const cwd = await tempDir("gb-e2e-cwd-");
    // [CLI-OPTIONS] --no-save together with --save-dir is a usage error, not a silent choice.
    const parent = await tempDir("gb-e2e-save-");
    const saveDir = path.join(parent, "inbox");
    const both = await runServerToExit(
      ["--host", "127.0.0.1", "--port", "0", "--no-save", "--save-dir", saveDir],
      { env, cwd },
    );
    expect(both.code).toBe(2);
    const server = await startServer(["--no-save", "--json"], { env, cwd });
    expect(server.listening).toMatchObject({ saveDir: null });
    expect(server.stderr.text).toContain("not saving");

    const client = await runClient(
      ["--port", String(server.port), "--json", "--dict", SAMPLE_DICT, "--file", SAMPLE_IMAGE],
      { env },
    );
    expect(client.code).toBe(0);
    const receipts = itemEvents(client.stdout);
    expect(receipts).toHaveLength(2);
    for (const receipt of receipts)
      expect(receipt).toMatchObject({ event: "stored", savedAs: null });

    const image = await readFile(SAMPLE_IMAGE);
    const event = await server.waitForEvent(
      (e) => e["event"] === "item" && e["id"] === 2,
      "item 2",
    );
    expect(event).toMatchObject({
      savedAs: null,
      savedPath: null,
      bytes: image.length,
      sha256: sha256(image),
    });
    expect(await server.stop()).toEqual({ code: 0, signal: null });

    expect(await exists(saveDir)).toBe(false);
    expect(await readdir(parent)).toEqual([]);
    // Nor in the default ./received of the server's working directory.
    expect(await readdir(cwd)).toEqual([]);
  });

  it("the human receipt says 'received (not saved)'", async () => {
    const env = await freshEnv();
    const server = await startServer(["--no-save", "--no-print"], { env });
    const client = await runClient(["--port", String(server.port), "--file", SAMPLE_TEXT], {
      env,
    });
    expect(client.code).toBe(0);
    expect(client.stdout).toMatch(
      /^✔ file notes\.txt received \(not saved\) · 319 B in [\d.]+ m?s \([^)]+\/s\) · sha256 [0-9a-f]{64}\n$/,
    );
  });
});

describe("printing received items", () => {
  it("pretty-prints dicts, shows text, summarises binary files and escapes control characters", async () => {
    const env = await freshEnv();
    const saveDir = await tempDir("gb-e2e-save-");
    const inputs = await tempDir("gb-e2e-in-");

    // Mostly text (so it is shown as text), with an ANSI colour sequence, BEL and backspace.
    const hostile = Buffer.from(
      `before \x1b[31mred\x1b[0m after \x07bell \x08back\n${"plain words ".repeat(40)}\nend\n`,
      "utf8",
    );
    const hostilePath = path.join(inputs, "hostile.txt");
    await writeFile(hostilePath, hostile);
    // Control characters in a file's name as well.
    const badNamePath = path.join(inputs, "na\x1b[2Jme.txt");
    await writeFile(badNamePath, "hello\n");
    const random = randomBytes(5000);
    random[0] = 0; // certainly binary
    const randomPath = path.join(inputs, "random.bin");
    await writeFile(randomPath, random);

    const server = await startServer(["--save-dir", saveDir], { env });
    const client = await runClient(
      [
        "--port",
        String(server.port),
        "--dict",
        SAMPLE_DICT,
        "--file",
        SAMPLE_TEXT,
        "--file",
        SAMPLE_IMAGE,
        "--file",
        randomPath,
        "--file",
        hostilePath,
        "--file",
        badNamePath,
      ],
      { env },
    );
    expect(client.code).toBe(0);
    // The client escapes the name in its own receipt line too.
    expect(client.stdoutBuffer.includes(ESC)).toBe(false);
    expect(client.stdout).toContain("na\\u001b[2Jme.txt");
    expect(await server.stop()).toEqual({ code: 0, signal: null });

    const out = server.stdout.text;
    const raw = server.stdout.buffer;

    // A dictionary, pretty-printed (two-space indent, one member per line).
    expect(out).toMatch(/── dict data\.json \(636 B, json\) from 127\.0\.0\.1:\d+ · saved as /);
    expect(out).toContain('{\n  "name": "Ada Lovelace",\n  "greeting":');
    expect(out).toContain('  "address": {\n    "street": "12 St James\'s Square",');
    expect(out).toContain(
      '  "multi\\nline": "first line\\nsecond line\\ttabbed\\r\\nwindows line",',
    );

    // A text file's content is shown.
    const notes = await readFile(SAMPLE_TEXT, "utf8");
    expect(out).toContain(notes.trimEnd());

    // Binary files are summarised, never dumped.
    const image = await readFile(SAMPLE_IMAGE);
    expect(out).toContain(`binary file, 463 B, sha256 ${sha256(image)}`);
    expect(out).toContain(`binary file, 4.9 KiB, sha256 ${sha256(random)}`);
    expect(raw.includes(image.subarray(1, 16))).toBe(false);
    expect(raw.includes(random.subarray(100, 116))).toBe(false);

    // Control characters are shown escaped; no raw ESC or BEL reaches the terminal.
    expect(raw.includes(ESC)).toBe(false);
    expect(raw.includes(BEL)).toBe(false);
    expect(out).toContain("before \\u001b[31mred\\u001b[0m after \\u0007bell \\u0008back");
    expect(out).toContain("── file na\\u001b[2Jme.txt (6 B)");

    // The stored name is made safe.
    expect((await readdir(saveDir)).sort()).toEqual([
      "data.json",
      "hostile.txt",
      "image.png",
      "na_[2Jme.txt",
      "notes.txt",
      "random.bin",
    ]);
  });

  it("C1 controls and bidi overrides in dicts and text are escaped; long text is cut", async () => {
    const env = await freshEnv();
    const inputs = await tempDir("gb-e2e-in-");
    const longText = path.join(inputs, "long.txt");
    const line = "All work and no play makes Jack a dull boy.\n"; // 44 bytes
    await writeFile(longText, `${line.repeat(230)}THE-END\n`); // 10,127 bytes
    const c1Text = path.join(inputs, "c1.txt");
    await writeFile(c1Text, `csi\u009b31m and ${"words ".repeat(50)}\u202eoverride\n`);
    const server = await startServer(["--no-save"], { env });

    const dict = { "key\u009b2J": "value\u202e\u0085\u2028end", plain: "ok" };
    const first = await runClient(["--port", String(server.port), "--dict", "-"], {
      env,
      input: JSON.stringify(dict),
    });
    expect(first.code).toBe(0);
    const second = await runClient(
      ["--port", String(server.port), "--file", longText, "--file", c1Text],
      { env },
    );
    expect(second.code).toBe(0);
    expect(await server.stop()).toEqual({ code: 0, signal: null });

    const out = server.stdout.text;
    for (const raw of ["\u009b", "\u202e", "\u0085", "\u2028"]) expect(out).not.toContain(raw);
    expect(out).toContain('"key\\u009b2J": "value\\u202e\\u0085\\u2028end"');
    expect(out).toContain("csi\\u009b31m and");
    expect(out).toContain("\\u202eoverride");
    expect(out).toContain("All work and no play makes Jack a dull boy.");
    expect(out).not.toContain("THE-END");
    expect(out).toMatch(/… \(cut: showing 2\.0 KiB of 9\.9 KiB\)/);
  });

  it("a text file full of control characters is summarised as binary", async () => {
    const env = await freshEnv();
    const inputs = await tempDir("gb-e2e-in-");
    const file = path.join(inputs, "ansi.txt");
    await writeFile(file, "\x1b]0;pwned\x07\x1b[2J\x1b[H".repeat(20));
    const server = await startServer(["--no-save"], { env });
    const client = await runClient(["--port", String(server.port), "--file", file], { env });
    expect(client.code).toBe(0);
    expect(await server.stop()).toEqual({ code: 0, signal: null });
    expect(server.stdout.buffer.includes(ESC)).toBe(false);
    expect(server.stdout.text).toContain("binary file");
  });
});
