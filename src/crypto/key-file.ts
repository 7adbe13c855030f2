import { open, rm, type FileHandle } from "node:fs/promises";
import { makeDirectory } from "../make-directory.js";
import { homedir } from "node:os";
import { setTimeout as sleep } from "node:timers/promises";
import nodePath from "node:path";
import { CryptoError, ErrorCode } from "../errors.js";
import { MASTER_KEY_BYTES } from "./constants.js";
import { newMasterKey } from "./master-key.js";

/** First line of every key file we write. */
export const KEY_FILE_HEADER = "# gb-transfer key v1 - keep this file secret";

/** Folder under the platform's configuration directory. */
const APP_DIR_NAME = "gb-transfer";

/** File name of the default key file. */
const KEY_FILE_NAME = "key";

/** Hex digits per byte. */
const HEX_CHARS_PER_BYTE = 2;

/** [KEY-FILE] The key line: optional spaces and tabs, 64 hex digits (either case), optional spaces and tabs. */
const KEY_LINE = new RegExp(
  `^[ \t]*([0-9a-fA-F]{${MASTER_KEY_BYTES * HEX_CHARS_PER_BYTE}})[ \t]*$`,
);

/** [KEY-FILE] A line that is ignored: empty, only spaces and tabs, or a `#` comment. */
const IGNORED_LINE = /^[ \t]*(?:#.*)?$/s;

/** [KEY-FILE] A byte-order mark, ignored at the start of the file only. */
const BYTE_ORDER_MARK = "\ufeff";

/** Strict UTF-8; a leading byte-order mark is kept, so that the parser decides about it. */
const strictUtf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** [KEY-FILE] Key files are about 110 bytes; anything larger than this is not one. */
export const MAX_KEY_FILE_BYTES = 4096;

/** rw------- : the key file is readable by its owner only. */
const KEY_FILE_MODE = 0o600;

/** rwx------ : the directory we create for the key file. */
const KEY_DIR_MODE = 0o700;

/** Permission bits for group and others; any of them set makes a key file too open. */
const GROUP_OTHER_PERMISSIONS = 0o077;

/** All permission bits of a file mode. */
const PERMISSION_BITS = 0o777;

/** Radix for printing file modes the way chmod takes them. */
const OCTAL = 8;

/** Digits when printing a mode, as in `0644`. */
const MODE_DIGITS = 4;

/**
 * How many times {@link loadOrCreateKeyFile} reads a key file that another process has
 * just created but may not have finished writing (20 x 25 ms: half a second in all).
 */
const CONCURRENT_CREATE_READ_ATTEMPTS = 20;

/** Pause between those reads, in milliseconds. */
const CONCURRENT_CREATE_RETRY_MS = 25;

/** Characters that need no quoting in a POSIX shell command. */
const SHELL_SAFE = /^[\w@%+=:,./-]+$/;

function errnoCode(error: unknown): string | undefined {
  if (error instanceof Error && "code" in error && typeof error.code === "string") {
    return error.code;
  }
  return undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** Quotes `text` for a POSIX shell, so a hint can be pasted as is. */
function shellQuote(text: string): string {
  return SHELL_SAFE.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

/**
 * [KEY-WRITE] The text of a key file holding `key`: the header line, LF, the key as 64
 * lower-case hex digits, LF.
 * @throws {CryptoError} KEY_INVALID when `key` is not 32 bytes.
 */
export function formatKeyFile(key: Uint8Array): string {
  if (key.length !== MASTER_KEY_BYTES) {
    throw new CryptoError(
      ErrorCode.KEY_INVALID,
      `a master key must be ${MASTER_KEY_BYTES} bytes, got ${key.length}`,
    );
  }
  return `${KEY_FILE_HEADER}\n${Buffer.from(key).toString("hex")}\n`;
}

function malformed(path: string, problem: string): CryptoError {
  return new CryptoError(ErrorCode.KEY_INVALID, `key file ${path} is malformed: ${problem}`);
}

/**
 * Parses a key file, by the grammar of PROTOCOL.md [KEY-FILE]: UTF-8 text of at most
 * {@link MAX_KEY_FILE_BYTES} bytes, an optional byte-order mark at the start; lines end
 * with LF, and a CR at the end of a line is ignored; lines that are empty, hold only
 * spaces and tabs, or whose first other character is `#` are ignored; exactly one other
 * line holds the key as 64 hex digits (either case), with optional spaces and tabs around.
 *
 * @param path used only in error messages. Messages never quote the file's content,
 *   since any line of it may be key material.
 * @throws {CryptoError} KEY_INVALID when the bytes are not a valid key file.
 */
export function parseKeyFile(bytes: Uint8Array, path: string): Buffer {
  if (bytes.byteLength > MAX_KEY_FILE_BYTES) {
    throw malformed(path, `it is over ${MAX_KEY_FILE_BYTES} bytes`);
  }
  let text: string;
  try {
    text = strictUtf8.decode(bytes);
  } catch {
    throw malformed(path, "it is not UTF-8 text");
  }
  if (text.startsWith(BYTE_ORDER_MARK)) text = text.slice(BYTE_ORDER_MARK.length);
  let key: Buffer | undefined;
  let keyLines = 0;
  let otherLines = 0;
  for (const rawLine of text.split("\n")) {
    const line = rawLine.endsWith("\r") ? rawLine.slice(0, -1) : rawLine;
    if (IGNORED_LINE.test(line)) continue;
    const match = KEY_LINE.exec(line);
    if (match?.[1] === undefined) {
      otherLines += 1;
    } else {
      keyLines += 1;
      key = Buffer.from(match[1], "hex");
    }
  }
  if (otherLines > 0) {
    throw malformed(
      path,
      `${otherLines} line(s) are neither comments nor ${MASTER_KEY_BYTES * HEX_CHARS_PER_BYTE} hex digits`,
    );
  }
  if (key === undefined || keyLines !== 1) {
    throw malformed(path, `it holds ${keyLines} keys instead of one`);
  }
  return key;
}

/** Reads at most `limit` bytes from the start of an open file. */
async function readAtMost(handle: FileHandle, limit: number): Promise<Buffer> {
  const buffer = Buffer.alloc(limit);
  let filled = 0;
  while (filled < limit) {
    const { bytesRead } = await handle.read(buffer, filled, limit - filled, filled);
    if (bytesRead === 0) break;
    filled += bytesRead;
  }
  return buffer.subarray(0, filled);
}

/**
 * Where the key file lives when no `--key-file` is given:
 * `$XDG_CONFIG_HOME/gb-transfer/key` when XDG_CONFIG_HOME is set to an absolute path,
 * otherwise `~/.config/gb-transfer/key` on Linux and the BSDs,
 * `~/Library/Application Support/gb-transfer/key` on macOS, and
 * `%APPDATA%\gb-transfer\key` on Windows.
 *
 * A pure function of its arguments, so every platform's answer can be tested anywhere.
 * A relative XDG_CONFIG_HOME is ignored, as the XDG Base Directory specification asks.
 */
export function defaultKeyFilePath(
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
  home: string = homedir(),
): string {
  const paths = platform === "win32" ? nodePath.win32 : nodePath.posix;
  const usable = (dir: string | undefined): dir is string =>
    dir !== undefined && dir !== "" && paths.isAbsolute(dir);

  const xdgConfigHome = env["XDG_CONFIG_HOME"];
  let configDir: string;
  if (usable(xdgConfigHome)) {
    configDir = xdgConfigHome;
  } else if (platform === "win32") {
    const appData = env["APPDATA"];
    // APPDATA is always set in a normal Windows session; the fallback is its usual value.
    configDir = usable(appData) ? appData : paths.join(home, "AppData", "Roaming");
  } else if (platform === "darwin") {
    configDir = paths.join(home, "Library", "Application Support");
  } else {
    configDir = paths.join(home, ".config");
  }
  return paths.join(configDir, APP_DIR_NAME, KEY_FILE_NAME);
}

async function openForReading(path: string): Promise<FileHandle> {
  try {
    return await open(path, "r");
  } catch (error) {
    if (errnoCode(error) === "ENOENT") {
      throw new CryptoError(ErrorCode.KEY_MISSING, `no key file at ${path}`, {
        cause: error,
      });
    }
    throw new CryptoError(
      ErrorCode.KEY_INVALID,
      `cannot open key file ${path}: ${describe(error)}`,
      {
        cause: error,
      },
    );
  }
}

/**
 * Reads the master key from a key file.
 *
 * On POSIX systems the file must not grant any permission to group or others (like
 * ssh, we refuse a key others could have read rather than silently use it). The checks
 * use the opened file, so the file cannot be swapped between check and read.
 *
 * @throws {CryptoError} KEY_MISSING when the file does not exist;
 *   KEY_INVALID when it cannot be read, is not a regular file, is too open, or is
 *   malformed.
 */
export async function readKeyFile(path: string): Promise<Buffer> {
  const handle = await openForReading(path);
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) {
      throw new CryptoError(ErrorCode.KEY_INVALID, `key file ${path} is not a regular file`);
    }
    // Windows has no POSIX permission bits (Node reports a synthetic mode): nothing to check.
    if (process.platform !== "win32" && (stats.mode & GROUP_OTHER_PERMISSIONS) !== 0) {
      const mode = (stats.mode & PERMISSION_BITS).toString(OCTAL).padStart(MODE_DIGITS, "0");
      throw new CryptoError(
        ErrorCode.KEY_INVALID,
        `permissions ${mode} for key file ${path} are too open: it must not be accessible by group or others`,
        { hint: `chmod 600 ${shellQuote(path)}` },
      );
    }
    if (stats.size > MAX_KEY_FILE_BYTES) {
      throw new CryptoError(
        ErrorCode.KEY_INVALID,
        `key file ${path} is ${stats.size} bytes, too large to be a key file (at most ${MAX_KEY_FILE_BYTES})`,
      );
    }
    // One byte over the limit is enough to refuse a file that grew since the stat.
    return parseKeyFile(await readAtMost(handle, MAX_KEY_FILE_BYTES + 1), path);
  } catch (error) {
    if (error instanceof CryptoError) throw error;
    throw new CryptoError(
      ErrorCode.KEY_INVALID,
      `cannot read key file ${path}: ${describe(error)}`,
      {
        cause: error,
      },
    );
  } finally {
    await handle.close();
  }
}

/** Creates a new key file; returns undefined, touching nothing, if `path` already exists. */
async function tryCreateKeyFile(path: string): Promise<Buffer | undefined> {
  const cannotCreate = (error: unknown): CryptoError =>
    new CryptoError(ErrorCode.KEY_MISSING, `cannot create key file ${path}: ${describe(error)}`, {
      cause: error,
    });
  try {
    // mode applies only to directories this call creates; existing ones are left alone.
    await makeDirectory(nodePath.dirname(path), KEY_DIR_MODE);
  } catch (error) {
    // Not folded into the open() below: mkdir reports EEXIST when a parent is a file.
    throw cannotCreate(error);
  }
  let handle: FileHandle;
  try {
    // "wx" = O_CREAT | O_EXCL: atomically fails if the file exists, so an existing key
    // is never replaced, even by a concurrent process.
    handle = await open(path, "wx", KEY_FILE_MODE);
  } catch (error) {
    if (errnoCode(error) === "EEXIST") return undefined;
    throw cannotCreate(error);
  }

  const key = newMasterKey();
  try {
    try {
      await handle.writeFile(formatKeyFile(key), { encoding: "utf8" });
      // The key must be on disk before anyone is told about it: clients will be given a
      // copy, and a key lost in a crash would strand everything encrypted with it.
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    // A partly written key file would be refused as malformed on every later start.
    const removed = await rm(path, { force: true }).then(
      () => true,
      () => false,
    );
    throw new CryptoError(
      ErrorCode.KEY_MISSING,
      `cannot write key file ${path}: ${describe(error)}`,
      {
        cause: error,
        ...(removed ? {} : { hint: `remove ${path} and try again` }),
      },
    );
  }
  return key;
}

/**
 * Creates a key file holding a fresh random master key: creates missing directories
 * with mode 0700, then the file with mode 0600, writes and fsyncs it.
 *
 * @returns the new master key.
 * @throws {CryptoError} KEY_INVALID when `path` already exists (an existing key is
 *   never overwritten); KEY_MISSING when the file cannot be created or written.
 */
export async function createKeyFile(path: string): Promise<Buffer> {
  const key = await tryCreateKeyFile(path);
  if (key === undefined) {
    throw new CryptoError(
      ErrorCode.KEY_INVALID,
      `refusing to overwrite existing key file ${path}`,
      {
        hint: `use the existing key, or delete ${path} first to replace it (clients will need the new key)`,
      },
    );
  }
  return key;
}

/**
 * Reads the key file at `path`, creating it with a fresh key if it does not exist.
 * Safe against a concurrent process doing the same: if the other one creates the file
 * first, this one reads the other's key.
 *
 * @returns the key, and whether this call created the file.
 * @throws {CryptoError} as {@link readKeyFile} and {@link createKeyFile}, except that an
 *   existing file is read rather than refused.
 */
export async function loadOrCreateKeyFile(
  path: string,
): Promise<{ key: Buffer; created: boolean }> {
  try {
    return { key: await readKeyFile(path), created: false };
  } catch (error) {
    if (!(error instanceof CryptoError && error.code === ErrorCode.KEY_MISSING)) throw error;
  }
  const key = await tryCreateKeyFile(path);
  if (key !== undefined) return { key, created: true };
  // Another process created it between our read and our create, and may still be
  // writing it: an empty or partial file reads as malformed for a moment.
  for (let attempt = 1; ; attempt += 1) {
    try {
      return { key: await readKeyFile(path), created: false };
    } catch (error) {
      const settling = error instanceof CryptoError && error.code === ErrorCode.KEY_INVALID;
      if (!settling || attempt >= CONCURRENT_CREATE_READ_ATTEMPTS) throw error;
    }
    await sleep(CONCURRENT_CREATE_RETRY_MS);
  }
}
