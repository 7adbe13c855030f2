import { mkdir, readdir, readFile, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createKeyFileHolding, replaceKeyFile } from "../../src/cli/key-store.js";
import { formatKeyFile, readKeyFile } from "../../src/crypto/key-file.js";
import { ErrorCode, StorageError } from "../../src/errors.js";
import { removeTempDirs, tempDir } from "./fake-io.js";

afterEach(removeTempDirs);

const posix = process.platform !== "win32";
const KEY_A = Buffer.alloc(32, 0xa5);
const KEY_B = Buffer.alloc(32, 0x5a);

describe("createKeyFileHolding", () => {
  it("creates the file (0600) and its directories (0700), and never replaces one", async () => {
    const keyFile = path.join(await tempDir(), "x", "y", "key");
    expect(await createKeyFileHolding(keyFile, KEY_A)).toBe(true);
    expect(await readFile(keyFile, "utf8")).toBe(formatKeyFile(KEY_A));
    if (posix) {
      expect((await stat(keyFile)).mode & 0o777).toBe(0o600);
      expect((await stat(path.dirname(keyFile))).mode & 0o777).toBe(0o700);
    }
    expect(await createKeyFileHolding(keyFile, KEY_B)).toBe(false);
    expect(await readKeyFile(keyFile)).toEqual(KEY_A);
  });

  it("a path it cannot create fails with STORAGE_FAILED", async () => {
    const file = path.join(await tempDir(), "file");
    await writeFile(file, "x");
    const error: unknown = await createKeyFileHolding(path.join(file, "key"), KEY_A).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).code).toBe(ErrorCode.STORAGE_FAILED);
  });
});

describe("replaceKeyFile", () => {
  it("replaces the key and leaves no temporary file", async () => {
    const dir = await tempDir();
    const keyFile = path.join(dir, "key");
    await createKeyFileHolding(keyFile, KEY_A);
    await replaceKeyFile(keyFile, KEY_B);
    expect(await readKeyFile(keyFile)).toEqual(KEY_B);
    expect(await readdir(dir)).toEqual(["key"]);
  });

  it("creates a missing file", async () => {
    const keyFile = path.join(await tempDir(), "new", "key");
    await replaceKeyFile(keyFile, KEY_B);
    expect(await readKeyFile(keyFile)).toEqual(KEY_B);
  });

  it("a rename that fails leaves what was there and no temporary file (STORAGE_FAILED)", async () => {
    const dir = await tempDir();
    const target = path.join(dir, "key");
    await mkdir(target);
    await writeFile(path.join(target, "inside"), "kept");
    const error: unknown = await replaceKeyFile(target, KEY_B).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageError);
    expect((error as StorageError).code).toBe(ErrorCode.STORAGE_FAILED);
    expect(await readdir(dir)).toEqual(["key"]);
    expect(await readFile(path.join(target, "inside"), "utf8")).toBe("kept");
  });
});
