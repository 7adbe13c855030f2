import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import path from "node:path";
import { encodeDict, type DictFormat } from "../codecs/dict-format.js";
import { validateJsonObject, type JsonObject } from "../codecs/json-value.js";
import { DEFAULT_DICT_LIMITS } from "../codecs/limits.js";
import { CodecError, ErrorCode, InputError } from "../errors.js";
import { GbClient, type KeySource, type SentItem } from "../transfer/client.js";
import type { ClientFlags } from "./client-command.js";
import { ExitCode, exitCodeFor } from "./exit-codes.js";
import { formatBytes } from "./format-bytes.js";
import { Progress } from "./progress.js";
import { resolveClientKey } from "./resolve-key.js";
import type { CommandIo, Terminal } from "./terminal.js";
import { escapeTerminalLine } from "./terminal-text.js";

/** `--format` names as users know them, mapped to wire formats. */
const FORMAT_BY_OPTION: Readonly<Record<ClientFlags["format"], DictFormat>> = {
  json: "json",
  binary: "msgpack",
  xml: "xml",
};

/**
 * Largest dictionary input (a --dict file, or stdin) read before it is refused: the
 * JSON text may be larger than its encoded form (white space), but not without bound.
 */
const MAX_DICT_INPUT_BYTES = 4 * DEFAULT_DICT_LIMITS.maxBytes;

/** A prepared item, validated before anything is sent. */
type PlannedItem =
  | {
      readonly kind: "dict";
      readonly label: string;
      readonly name: string;
      readonly value: JsonObject;
    }
  | {
      readonly kind: "file";
      readonly label: string;
      readonly path: string;
      /** Size when known (not for stdin), for the progress display. */
      readonly size: number | undefined;
    };

/** Does what gb-client's options ask: checks every input, connects, sends, reports. */
export async function sendItems(
  flags: ClientFlags,
  io: CommandIo,
  terminal: Terminal,
): Promise<number> {
  const stdinUses = flags.file.filter((file) => file === "-").length + (flags.dict === "-" ? 1 : 0);
  if (flags.dict === undefined && flags.file.length === 0) {
    terminal.error("nothing to send: give --dict FILE and/or --file PATH");
    terminal.hint("run gb-client --help for examples");
    return ExitCode.USAGE;
  }
  if (stdinUses > 1) {
    terminal.error("standard input (-) can be used for one item only");
    terminal.hint("read the other items from files");
    return ExitCode.USAGE;
  }
  const format = FORMAT_BY_OPTION[flags.format];

  // Everything local is checked before connecting, so a typo sends nothing.
  let plan: PlannedItem[];
  let encryption: KeySource | undefined;
  try {
    plan = await planItems(flags, format, io);
    if (flags.encrypt) encryption = await resolveClientKey(flags.keyFile, io.env);
  } catch (error) {
    terminal.error(error);
    return exitCodeFor(error);
  }

  let client: GbClient;
  try {
    client = await GbClient.connect({
      host: flags.host,
      port: flags.port,
      ...(encryption === undefined ? {} : { encryption }),
    });
  } catch (error) {
    terminal.error(error);
    return exitCodeFor(error);
  }

  const progress = new Progress(io.stderr, !flags.json && io.stderr.isTTY === true);
  let exitCode: number = ExitCode.OK;
  try {
    const pending = plan.map((item) => {
      const onProgress = (bytesSent: number): void => {
        progress.update(item.label, bytesSent, item.kind === "file" ? item.size : undefined);
      };
      if (item.kind === "dict") {
        return client.sendDict(item.value, {
          format,
          name: item.name,
          encrypt: flags.encrypt,
          onProgress,
        });
      }
      if (item.path === "-") {
        return client.sendStream(io.stdin as AsyncIterable<Buffer>, {
          name: "stdin",
          size: null,
          encrypt: flags.encrypt,
          onProgress,
        });
      }
      return client.sendFile(item.path, { encrypt: flags.encrypt, onProgress });
    });
    // Receipts are reported in the order items were given. An item's id in --json
    // output is its position in that order (1-based), whatever the wire id was.
    // A connection-wide failure reaches every pending item as the same error object:
    // it is printed once (--json still reports each item).
    const printed = new Set<unknown>();
    for (const [index, result] of pending.entries()) {
      const item = plan[index];
      if (item === undefined) continue;
      const id = index + 1;
      try {
        const sent = await result;
        progress.clear();
        reportStored(terminal, sent, id, flags.json);
      } catch (error) {
        progress.clear();
        if (flags.json || !printed.has(error)) {
          printed.add(error);
          reportFailed(terminal, item.label, id, error, flags.json);
        }
        if (exitCode === ExitCode.OK) exitCode = exitCodeFor(error);
      }
    }
  } finally {
    progress.stop();
    await client.close().catch(() => undefined);
  }
  return exitCode;
}

async function planItems(
  flags: ClientFlags,
  format: DictFormat,
  io: CommandIo,
): Promise<PlannedItem[]> {
  const plan: PlannedItem[] = [];
  if (flags.dict !== undefined) {
    const source = flags.dict;
    const text = await readInput(source, io);
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (error) {
      throw new CodecError(
        ErrorCode.DICT_INVALID,
        `${source} is not valid JSON: ${describe(error)}`,
        {
          cause: error,
          hint: "--dict expects a file holding one JSON object, such as samples/data.json",
        },
      );
    }
    const value = validateJsonObject(parsed, DEFAULT_DICT_LIMITS);
    // Encode once here so size and depth problems show before connecting.
    encodeDict(value, format);
    const name = source === "-" ? "stdin.json" : path.basename(source);
    plan.push({ kind: "dict", label: source, name, value });
  }
  for (const file of flags.file) {
    const size = file === "-" ? undefined : await checkReadableFile(file);
    plan.push({ kind: "file", label: file, path: file, size });
  }
  return plan;
}

/** Returns the file's size. */
async function checkReadableFile(file: string): Promise<number> {
  let isFile: boolean;
  let size: number;
  try {
    const info = await stat(file);
    isFile = info.isFile();
    size = info.size;
  } catch (error) {
    throw new InputError(ErrorCode.INPUT_UNREADABLE, `cannot read ${file}: ${describe(error)}`, {
      cause: error,
      hint: "check the path given to --file",
    });
  }
  if (!isFile) {
    throw new InputError(ErrorCode.INPUT_UNREADABLE, `${file} is not a regular file`, {
      hint: "to send a directory, archive it first: tar c DIR | gb-client --file -",
    });
  }
  return size;
}

/**
 * Reads a dictionary's text from a file or stdin (`-`), refusing more than
 * {@link MAX_DICT_INPUT_BYTES}: a regular file by its size before reading it, anything
 * else (stdin, a pipe, a device) as soon as that much has been read.
 */
async function readInput(source: string, io: CommandIo): Promise<string> {
  const where = source === "-" ? "on stdin" : `in ${source}`;
  const tooLarge = (): CodecError =>
    new CodecError(
      ErrorCode.DICT_TOO_LARGE,
      `the dictionary ${where} is too large (more than ${formatBytes(MAX_DICT_INPUT_BYTES)})`,
    );
  let input: AsyncIterable<Buffer> | undefined;
  try {
    if (source === "-") {
      input = io.stdin as AsyncIterable<Buffer>;
    } else {
      const info = await stat(source);
      if (info.isFile() && info.size > MAX_DICT_INPUT_BYTES) throw tooLarge();
      input = createReadStream(source);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for await (const chunk of input) {
      total += chunk.length;
      if (total > MAX_DICT_INPUT_BYTES) throw tooLarge();
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString("utf8");
  } catch (error) {
    if (error instanceof CodecError) throw error;
    throw new InputError(ErrorCode.INPUT_UNREADABLE, `cannot read ${source}: ${describe(error)}`, {
      cause: error,
    });
  }
}

function reportStored(terminal: Terminal, sent: SentItem, id: number, json: boolean): void {
  const receipt = sent.receipt;
  if (json) {
    terminal.json({
      event: "stored",
      id,
      kind: sent.kind,
      name: sent.name,
      encrypted: sent.encrypted,
      bytes: sent.bytes,
      sha256: sent.sha256,
      savedAs: receipt.savedAs,
    });
    return;
  }
  const c = terminal.out;
  const where =
    receipt.savedAs === null
      ? "received (not saved)"
      : `stored as ${escapeTerminalLine(receipt.savedAs)}`;
  terminal.print(
    `${c.green("✔")} ${sent.kind} ${escapeTerminalLine(sent.name)} ${where} · ` +
      `${formatBytes(sent.bytes)}${sent.encrypted ? " · encrypted" : ""} · sha256 ${sent.sha256}`,
  );
}

function reportFailed(
  terminal: Terminal,
  label: string,
  id: number,
  error: unknown,
  json: boolean,
): void {
  if (json) {
    terminal.json({
      event: "failed",
      id,
      name: label,
      code: error instanceof Error && "code" in error ? String(error.code) : ErrorCode.INTERNAL,
      message: error instanceof Error ? error.message : String(error),
    });
    return;
  }
  terminal.error(error);
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
