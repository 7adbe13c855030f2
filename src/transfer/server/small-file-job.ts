import { ErrorCode } from "../../errors.js";

/**
 * One job for the writer thread ({@link SmallFileWriter}): a small file to store, its
 * bytes `length` bytes at `offset` of its batch's data; or a directory of a tree to
 * finish [T-MTIME] once everything in it is named (then `baseName` is empty, `length` 0).
 */
export interface SmallFileJob {
  readonly kind: "file" | "dir";
  /** Where the file is named: the save directory, or a directory of a tree (absolute). */
  readonly directory: string;
  /**
   * `directory` relative to the save directory, components joined by `/`, for a file of
   * a tree (checked [T-NOFOLLOW], and its stored path must fit [T-PLACE]); null otherwise.
   */
  readonly relative: string | null;
  /** The base name, already made safe [V-NAME]. */
  readonly baseName: string;
  readonly offset: number;
  readonly length: number;
  /** [T-MODE] a file of a tree: whether it is executable; null otherwise. */
  readonly exec: boolean | null;
  /** [T-MTIME] a file of a tree: its modification time; null otherwise. */
  readonly mtimeMs: number | null;
  /**
   * [RES-JOURNAL] A file of a tree that resumes from its journal: a file found under one
   * of its names with exactly its bytes, time and mode is the one a server stopped dead
   * named before it could journal it, and is taken as stored (not named again next to it).
   */
  readonly resumed: boolean;
}

/** What the server sends the writer thread: files, stored in this order. */
export interface SmallFileBatch {
  /** Every file's bytes, end to end. */
  readonly data: Uint8Array;
  readonly jobs: readonly SmallFileJob[];
}

/** The writer thread's settings, fixed for its life. */
export interface SmallFileWriterSettings {
  /** The save directory: temporary files go there, and trees are checked against it. */
  readonly saveDirectory: string;
  /** fsync each file before it is named, and each directory once its names are made. */
  readonly durable: boolean;
}

/** How one file of a batch ended: its stored base name, or why it was not stored. */
export type SmallFileAnswer =
  | { readonly ok: true; readonly name: string }
  | {
      readonly ok: false;
      readonly code: typeof ErrorCode.STORAGE_FAILED | typeof ErrorCode.BUSY;
      readonly message: string;
    };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null;
}

function isNullableString(value: unknown): value is string | null {
  return value === null || typeof value === "string";
}

function isCount(value: unknown): value is number {
  return typeof value === "number" && Number.isSafeInteger(value) && value >= 0;
}

/** Checks the writer thread's settings as it receives them. Undefined when malformed. */
export function parseSmallFileWriterSettings(value: unknown): SmallFileWriterSettings | undefined {
  if (!isRecord(value)) return undefined;
  const { saveDirectory, durable } = value;
  if (typeof saveDirectory !== "string" || typeof durable !== "boolean") return undefined;
  return { saveDirectory, durable };
}

function parseJob(value: unknown, dataBytes: number): SmallFileJob | undefined {
  if (!isRecord(value)) return undefined;
  const { kind, directory, relative, baseName, offset, length, exec, mtimeMs, resumed } = value;
  if (kind !== "file" && kind !== "dir") return undefined;
  if (typeof directory !== "string" || typeof baseName !== "string") return undefined;
  if (kind === "dir" && (relative === null || mtimeMs === null)) return undefined;
  if (!isNullableString(relative) || !isCount(offset) || !isCount(length)) return undefined;
  if (offset + length > dataBytes) return undefined;
  if (exec !== null && typeof exec !== "boolean") return undefined;
  if (mtimeMs !== null && (typeof mtimeMs !== "number" || !Number.isFinite(mtimeMs))) {
    return undefined;
  }
  if (typeof resumed !== "boolean") return undefined;
  return { kind, directory, relative, baseName, offset, length, exec, mtimeMs, resumed };
}

/**
 * Checks a batch as the writer thread receives it (its jobs as JSON text): it crossed a
 * thread boundary, so it is checked like anything else from outside. Undefined when
 * malformed.
 */
export function parseSmallFileBatch(value: unknown): SmallFileBatch | undefined {
  if (!isRecord(value) || !(value["data"] instanceof Uint8Array)) return undefined;
  const data = value["data"];
  const text = value["jobs"];
  if (typeof text !== "string") return undefined;
  let jobs: unknown;
  try {
    jobs = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!Array.isArray(jobs)) return undefined;
  const parsed: SmallFileJob[] = [];
  for (const job of jobs) {
    const checked = parseJob(job, data.length);
    if (checked === undefined) return undefined;
    parsed.push(checked);
  }
  return { data, jobs: parsed };
}

/** Checks the writer thread's answers to a batch of `count` files. */
export function parseSmallFileAnswers(
  value: unknown,
  count: number,
): readonly SmallFileAnswer[] | undefined {
  if (!Array.isArray(value) || value.length !== count) return undefined;
  const answers: SmallFileAnswer[] = [];
  for (const answer of value) {
    if (!isRecord(answer)) return undefined;
    if (answer["ok"] === true && typeof answer["name"] === "string") {
      answers.push({ ok: true, name: answer["name"] });
      continue;
    }
    const { code, message } = answer;
    if (answer["ok"] !== false || typeof message !== "string") return undefined;
    if (code !== ErrorCode.STORAGE_FAILED && code !== ErrorCode.BUSY) return undefined;
    answers.push({ ok: false, code, message });
  }
  return answers;
}
