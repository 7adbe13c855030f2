import { ErrorCode, ProtocolError } from "../errors.js";
import {
  MAX_ERROR_CODE_BYTES,
  MAX_SAFE_COUNT,
  MAX_SAVED_AS_BYTES,
  MAX_TREE_DEPTH,
  MAX_TREE_PATH_BYTES,
} from "./constants.js";
import type { ControlObject, ControlValue } from "./control-json.js";
import { checkComponent, readEntryPath } from "./entry-path.js";
import {
  asObject,
  readBoolean,
  readCount,
  readNullableString,
  readString,
  requireAbsent,
} from "./json-fields.js";
import { readResumeMembers } from "./resume-messages.js";

/** Most files in one batch [T-BATCH]. */
export const MAX_BATCH_FILES = 32;
/** Most bytes of one file of a batch: 64 KiB [T-BATCH]. */
export const MAX_BATCH_FILE_BYTES = 64 * 1024;
/** Most bytes of a batch's data, all its files together: 256 KiB [T-BATCH]. */
export const MAX_BATCH_BYTES = 256 * 1024;
/** Most UTF-8 bytes of the message of one file's failure in a batch receipt [T-BATCH-RECEIPT]. */
export const MAX_BATCH_FAILURE_BYTES = 512;

/** One file of a batch: a file entry of a tree without its directory [T-BATCH]. */
export interface BatchFile {
  /** The file's name: the last component of its path. */
  readonly name: string;
  readonly size: number;
  /** Modification time, in milliseconds since the Unix epoch [T-MTIME]. */
  readonly mtimeMs: number;
  /** The file is executable [T-MODE]. */
  readonly exec: boolean;
}

/** [T-BATCH] A run of small files of one directory of a tree, sent as one item. */
export interface BatchMeta {
  readonly kind: "files";
  /** The directory's name: the last component of {@link dir}. */
  readonly name: string;
  /** The files' sizes together: the bytes of the item's data. */
  readonly size: number;
  /** The path of the directory the files are in, top folder first [T-PATH]. */
  readonly dir: readonly string[];
  readonly files: readonly BatchFile[];
  /** [RES-TREE] The tree key, when the batch starts a tree. */
  readonly tree?: string;
}

/** A file of a batch that was not stored, and why [T-BATCH-RECEIPT]. */
export interface FileFailure {
  readonly code: string;
  readonly message: string;
}

/** What the server stored of a batch, file by file [T-BATCH-RECEIPT]. */
export interface BatchReceiptBody<Stored = ControlObject> {
  readonly kind: "files";
  readonly name: string;
  readonly bytes: number;
  /** The directory the files were stored in, relative to the save directory; null when not saved. */
  readonly savedAs: string | null;
  /** Per file, in the batch's order: its receipt [M-RECEIPT], or its failure. */
  readonly files: readonly (Stored | FileFailure)[];
}

/** The members of an item's metadata that a batch does not have [J-MEMBERS]. */
const NOT_IN_A_BATCH = ["format", "mtimeMs", "exec"] as const;

/**
 * [T-BATCH] The metadata of a batch, `kind` and `name` already read: `path` (the
 * directory, at most 63 components, so that its files' paths keep to [T-PATH]), `files`
 * (1 to {@link MAX_BATCH_FILES}, each a component name, a size of at most 64 KiB, a time
 * and the executable bit), `size` their sum and at most 256 KiB, and at most a tree key in
 * `resume`.
 * @throws {ProtocolError} MALFORMED_MESSAGE
 */
export function readBatchMeta(record: ControlObject, name: string): BatchMeta {
  for (const field of NOT_IN_A_BATCH) requireAbsent(record, field, "for a batch of files");
  const size = readCount(record, "size", MAX_SAFE_COUNT);
  if (size > MAX_BATCH_BYTES)
    throw malformed(`"size" of a batch must be at most ${MAX_BATCH_BYTES}`);
  const { path: dir, bytes: dirBytes } = readEntryPath(record, name, 1, MAX_TREE_DEPTH - 1);
  const list = record.get("files");
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_BATCH_FILES) {
    throw malformed(`"files" must be an array of 1 to ${MAX_BATCH_FILES} files`);
  }
  const values: readonly ControlValue[] = list;
  let total = 0;
  const files = values.map((value) => {
    const file = readBatchFile(asObject(value, 'a file of "files"'), dirBytes);
    total += file.size;
    return file;
  });
  if (total !== size)
    throw malformed(`"size" ${size} is not the sum of the files' sizes (${total})`);
  const { key, tree } = readResumeMembers(record);
  if (key !== undefined) throw malformed('"resume" of a batch has a "tree" only');
  return tree === undefined
    ? { kind: "files", name, size, dir, files }
    : { kind: "files", name, size, dir, files, tree };
}

function readBatchFile(record: ControlObject, dirBytes: number): BatchFile {
  const name = readString(record, "name", MAX_TREE_PATH_BYTES);
  const nameBytes = checkComponent(name, '"files" name');
  if (dirBytes + 1 + nameBytes > MAX_TREE_PATH_BYTES) {
    throw malformed(`a file's path is longer than ${MAX_TREE_PATH_BYTES} UTF-8 bytes`);
  }
  const size = readCount(record, "size", MAX_BATCH_FILE_BYTES);
  const mtimeMs = readCount(record, "mtimeMs", MAX_SAFE_COUNT);
  const exec = readBoolean(record, "exec");
  return { name, size, mtimeMs, exec };
}

/** The JSON of a batch's metadata [T-BATCH]. */
export function batchMetaToJson(meta: BatchMeta): object {
  return {
    kind: "files",
    name: meta.name,
    size: meta.size,
    path: meta.dir,
    files: meta.files.map(({ name, size, mtimeMs, exec }) => ({ name, size, mtimeMs, exec })),
    ...(meta.tree === undefined ? {} : { resume: { tree: meta.tree } }),
  };
}

/**
 * [T-BATCH-RECEIPT] A batch receipt's members, `kind` already read: `files` has one
 * answer per file of the batch, a receipt object (read by `readReceipt`) or a failure.
 * @throws {ProtocolError} MALFORMED_MESSAGE
 */
export function readBatchReceipt<Stored>(
  record: ControlObject,
  name: string,
  readReceipt: (record: ControlObject) => Stored,
): BatchReceiptBody<Stored> {
  requireAbsent(record, "sha256", "for a batch of files");
  requireAbsent(record, "storedSha256", "for a batch of files");
  const bytes = readCount(record, "bytes", MAX_SAFE_COUNT);
  const savedAs = readNullableString(record, "savedAs", MAX_SAVED_AS_BYTES);
  const list = record.get("files");
  if (!Array.isArray(list) || list.length === 0 || list.length > MAX_BATCH_FILES) {
    throw malformed(`"files" must be an array of 1 to ${MAX_BATCH_FILES} answers`);
  }
  const values: readonly ControlValue[] = list;
  const files = values.map((value) => {
    const answer = asObject(value, 'an answer of "files"');
    if (!answer.has("code")) return readReceipt(answer);
    return {
      code: readString(answer, "code", MAX_ERROR_CODE_BYTES),
      message: readString(answer, "message", MAX_BATCH_FAILURE_BYTES),
    };
  });
  return { kind: "files", name, bytes, savedAs, files };
}

function malformed(what: string): ProtocolError {
  return new ProtocolError(ErrorCode.MALFORMED_MESSAGE, `malformed message: ${what}`);
}
