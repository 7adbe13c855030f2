import { hintFor } from "../../src/cli/hints.js";
import { readFileSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  KEY_FILE_HEADER,
  createKeyFile,
  formatKeyFile,
  loadOrCreateKeyFile,
  parseKeyFile,
  readKeyFile,
} from "../../src/crypto/key-file.js";
import { CryptoError, ErrorCode } from "../../src/errors.js";
import { docString } from "../support/doc-string.js";
import { readProtocolDoc } from "../support/protocol-doc.js";

const posix = process.platform !== "win32";
const KEY_HEX = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

let dir: string;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), "gb-transfer-key-"));
});

afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<CryptoError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(CryptoError);
  if (!(error instanceof CryptoError)) throw new Error("expected a CryptoError");
  return error;
}

async function writeKeyText(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, text, { mode: 0o600 });
  return path;
}

describe("createKeyFile", () => {
  it("creates missing directories 0700 and the file 0600, in the documented format", async () => {
    const path = join(dir, "config", "gb-transfer", "key");
    const key = await createKeyFile(path);
    expect(key.length).toBe(32);

    const text = await readFile(path, "utf8");
    expect(text).toBe(`${KEY_FILE_HEADER}\n${key.toString("hex")}\n`);
    expect(text).toMatch(/^# gb-transfer key v1 - keep this file secret\n[0-9a-f]{64}\n$/);

    if (posix) {
      expect((await stat(path)).mode & 0o777).toBe(0o600);
      expect((await stat(join(dir, "config"))).mode & 0o777).toBe(0o700);
      expect((await stat(join(dir, "config", "gb-transfer"))).mode & 0o777).toBe(0o700);
    }
    expect(await readKeyFile(path)).toEqual(key);
  });

  it("creates a different key each time", async () => {
    const a = await createKeyFile(join(dir, "a"));
    const b = await createKeyFile(join(dir, "b"));
    expect(a).not.toEqual(b);
  });

  it("never overwrites an existing file", async () => {
    const original = `${KEY_FILE_HEADER}\n${KEY_HEX}\n`;
    const path = await writeKeyText("key", original);
    const error = await rejection(createKeyFile(path));
    expect(error.code).toBe(ErrorCode.KEY_INVALID);
    expect(await readFile(path, "utf8")).toBe(original);
  });

  it("reports a location it cannot create as KEY_MISSING", async () => {
    // A regular file where a directory is needed fails on every platform, even as root.
    const blocker = await writeKeyText("not-a-dir", "x");
    const error = await rejection(createKeyFile(join(blocker, "key")));
    expect(error.code).toBe(ErrorCode.KEY_MISSING);
    expect(error.cause).toBeDefined();
  });
});

describe("readKeyFile", () => {
  it("reads a key file back", async () => {
    const path = await writeKeyText("key", formatKeyFile(Buffer.from(KEY_HEX, "hex")));
    expect((await readKeyFile(path)).toString("hex")).toBe(KEY_HEX);
  });

  it("reports a missing file as KEY_MISSING; the CLI's hint names --key-file", async () => {
    const path = join(dir, "absent");
    const error = await rejection(readKeyFile(path));
    expect(error.code).toBe(ErrorCode.KEY_MISSING);
    expect(error.message).toContain(path);
    expect(error.hint).toBeUndefined();
    expect(hintFor(error, "gb-client")).toContain("--key-file");
    expect(error.cause).toBeDefined();
  });

  it.skipIf(!posix).each([0o640, 0o604, 0o660, 0o644, 0o601, 0o610])(
    "refuses a file with mode %o (KEY_INVALID, hint chmod 600)",
    async (mode) => {
      const path = await writeKeyText("key", formatKeyFile(Buffer.from(KEY_HEX, "hex")));
      await chmod(path, mode);
      const error = await rejection(readKeyFile(path));
      expect(error.code).toBe(ErrorCode.KEY_INVALID);
      expect(error.message).toContain(path);
      expect(error.hint).toBe(`chmod 600 ${path}`);
    },
  );

  it.skipIf(!posix).each([0o400, 0o600, 0o700])("accepts mode %o (owner only)", async (mode) => {
    const path = await writeKeyText("key", formatKeyFile(Buffer.from(KEY_HEX, "hex")));
    await chmod(path, mode);
    expect((await readKeyFile(path)).toString("hex")).toBe(KEY_HEX);
  });

  it.skipIf(!posix)("quotes a path with spaces in the chmod hint", async () => {
    const path = await writeKeyText("my key", formatKeyFile(Buffer.from(KEY_HEX, "hex")));
    await chmod(path, 0o644);
    const error = await rejection(readKeyFile(path));
    expect(error.hint).toBe(`chmod 600 '${path}'`);
  });

  it("refuses a directory (KEY_INVALID)", async () => {
    const path = join(dir, "sub");
    await mkdir(path, { mode: 0o700 });
    expect((await rejection(readKeyFile(path))).code).toBe(ErrorCode.KEY_INVALID);
  });

  it("refuses a huge file without parsing it (KEY_INVALID)", async () => {
    const path = await writeKeyText("key", `${"#".repeat(10_000)}\n${KEY_HEX}\n`);
    expect((await rejection(readKeyFile(path))).code).toBe(ErrorCode.KEY_INVALID);
  });

  it.each([
    ["empty", ""],
    ["comments only", `${KEY_FILE_HEADER}\n# nothing else\n`],
    ["short key", `${KEY_HEX.slice(2)}\n`],
    ["long key", `${KEY_HEX}00\n`],
    ["non-hex", `${KEY_HEX.slice(1)}g\n`],
    ["two keys", `${KEY_HEX}\n${KEY_HEX}\n`],
    ["key and junk", `${KEY_HEX}\njunk\n`],
    ["base64", `${Buffer.from(KEY_HEX, "hex").toString("base64")}\n`],
  ])("refuses a malformed file: %s (KEY_INVALID, path but no key material)", async (_, text) => {
    const path = await writeKeyText("key", text);
    const error = await rejection(readKeyFile(path));
    expect(error.code).toBe(ErrorCode.KEY_INVALID);
    expect(error.message).toContain(path);
    expect(error.message.toLowerCase()).not.toContain(KEY_HEX.slice(0, 16));
    expect(error.hint ?? "").not.toContain(KEY_HEX.slice(0, 16));
  });
});

describe("parseKeyFile", () => {
  it("accepts upper case, CRLF line endings, blank lines, comments and indentation", () => {
    const text = `\r\n# a comment\r\n\r\n  ${KEY_HEX.toUpperCase()}  \r\n# trailing\r\n`;
    expect(parseKeyFile(Buffer.from(text), "k").toString("hex")).toBe(KEY_HEX);
  });

  it("accepts a key with no final newline", () => {
    expect(parseKeyFile(Buffer.from(KEY_HEX), "k").toString("hex")).toBe(KEY_HEX);
  });

  it("[KEY-WRITE] round trips formatKeyFile, which writes the header, the key in lower case and LF", () => {
    const key = Buffer.from(KEY_HEX.toUpperCase(), "hex");
    const text = formatKeyFile(key);
    expect(text).toBe(`${KEY_FILE_HEADER}\n${KEY_HEX}\n`);
    expect(parseKeyFile(Buffer.from(text), "k")).toEqual(key);
  });
});

interface KeyFileVector {
  what: string;
  text?: string;
  hex?: string;
  key?: string;
  error?: string;
}
const keyFileVectors = (
  JSON.parse(
    readFileSync(new URL("../vectors/key-file-vectors.json", import.meta.url), "utf8"),
  ) as { vectors: KeyFileVector[] }
).vectors;
const vectorBytes = (vector: KeyFileVector): Buffer =>
  vector.text === undefined ? Buffer.from(vector.hex!, "hex") : Buffer.from(vector.text, "utf8");

describe("[KEY-FILE] key file vectors (test/vectors/key-file-vectors.json)", () => {
  it.each(keyFileVectors.map((v) => [v.what, v] as const))("[KEY-FILE] %s", (_what, vector) => {
    const bytes = vectorBytes(vector);
    if (vector.error === undefined) {
      expect(parseKeyFile(bytes, "k").toString("hex")).toBe(vector.key);
      return;
    }
    let caught: unknown;
    try {
      parseKeyFile(bytes, "k");
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(CryptoError);
    expect((caught as CryptoError).code).toBe(vector.error);
    // Messages never quote the file: any line of it may be key material.
    expect((caught as CryptoError).message.toLowerCase()).not.toContain(KEY_HEX.slice(0, 16));
  });

  it("[KEY-FILE] reads the vectors from disk the same way", async () => {
    for (const vector of keyFileVectors) {
      const path = await writeKeyText("vector", "");
      await writeFile(path, vectorBytes(vector));
      const result = await readKeyFile(path).then(
        (key) => key.toString("hex"),
        (error: unknown) => (error instanceof CryptoError ? error.code : error),
      );
      expect(result, vector.what).toBe(vector.key ?? vector.error);
    }
  });

  it("are all printed in PROTOCOL.md", () => {
    const protocolDoc = readProtocolDoc();
    const keys = new Map([
      [KEY_HEX, "K"],
      [KEY_HEX.toUpperCase(), "upper(K)"],
    ]);
    for (const vector of keyFileVectors) {
      const input =
        vector.text === undefined ? `bytes \`${vector.hex}\`` : docString(vector.text, keys);
      const row = `| ${vector.what} | ${input} | ${vector.key === undefined ? vector.error : "K"} |`;
      expect(protocolDoc.includes(row), row).toBe(true);
    }
  });
});

describe("loadOrCreateKeyFile", () => {
  it("creates the file the first time, then reads the same key", async () => {
    const path = join(dir, "nested", "key");
    const first = await loadOrCreateKeyFile(path);
    expect(first.created).toBe(true);
    const second = await loadOrCreateKeyFile(path);
    expect(second).toEqual({ key: first.key, created: false });
  });

  it("gives concurrent callers one key, created exactly once", async () => {
    const path = join(dir, "key");
    const results = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateKeyFile(path)));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    for (const { key } of results) expect(key).toEqual(results[0]!.key);
    expect(await readKeyFile(path)).toEqual(results[0]!.key);
  });

  it("does not replace a malformed file", async () => {
    const path = await writeKeyText("key", "garbage\n");
    expect((await rejection(loadOrCreateKeyFile(path))).code).toBe(ErrorCode.KEY_INVALID);
    expect(await readFile(path, "utf8")).toBe("garbage\n");
  });
});
