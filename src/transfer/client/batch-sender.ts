import { sha256Hex } from "../../crypto/sha256-hex.js";
import { ErrorCode, InputError, type GbError } from "../../errors.js";
import type { FrameWriter } from "../../framing/frame-writer.js";
import {
  MAX_BATCH_BYTES,
  MAX_BATCH_FILE_BYTES,
  MAX_BATCH_FILES,
  type BatchFile,
} from "../../protocol/batch-messages.js";
import { MAX_CONTROL_FRAME_BYTES } from "../../protocol/constants.js";
import type { BatchMeta } from "../../protocol/messages.js";
import { inputFileError } from "../inputs/input-file-error.js";
import type { SentItem } from "./client-options.js";
import { ItemChunker } from "./item-chunker.js";
import { handled, ItemSlot, type BatchSlotFile } from "./item-slot.js";
import type { ItemsInFlight } from "./items-in-flight.js";
import type { PreparedFile, PreparedItem } from "./prepared-item.js";
import type { SlabReader } from "./slab-reader.js";

/** A file entry of a tree that may go in a batch [T-BATCH]: read from disk, at most 64 KiB. */
export type BatchableFile = PreparedFile & {
  readonly meta: { readonly entry: NonNullable<PreparedFile["meta"]["entry"]> };
};

/** One file of a batch to send, and what to call once its bytes are written. */
export interface BatchEntry {
  readonly item: BatchableFile;
  readonly onSent?: (() => void) | undefined;
}

/** What settles one file of a batch: its caller's promise. */
export interface BatchSettle {
  readonly resolve: (item: SentItem) => void;
  readonly reject: (error: GbError) => void;
}

/**
 * A promise per file of a batch, in its order, and what settles each: every promise is
 * marked handled, as the caller may look at them only later.
 */
export function batchPromises(count: number): {
  readonly settles: readonly BatchSettle[];
  readonly promises: Promise<SentItem>[];
} {
  const settles: BatchSettle[] = [];
  const promises = Array.from({ length: count }, (): Promise<SentItem> => {
    let settle!: BatchSettle;
    const promise = new Promise<SentItem>((resolve, reject) => {
      settle = { resolve, reject };
    });
    settles.push(settle);
    return handled(promise);
  });
  return { settles, promises };
}

/** The ITEM of a batch but its files, at its longest: an id and a size of many digits, a tree key. */
const HEADER_BASE_BYTES = Buffer.byteLength(
  JSON.stringify({
    id: Number.MAX_SAFE_INTEGER,
    meta: {
      kind: "files",
      name: "",
      size: MAX_BATCH_BYTES,
      path: [],
      files: [],
      resume: { tree: "0".repeat(64) },
    },
  }),
);

/** True when `item` can go in a batch: a file entry of a tree read from disk, of at most 64 KiB. */
export function isBatchable(item: PreparedItem): item is BatchableFile {
  return (
    item.origin === "path" &&
    item.meta.entry !== undefined &&
    item.meta.size <= MAX_BATCH_FILE_BYTES
  );
}

/**
 * [T-BATCH] Gathers consecutive files of one directory into a batch, as long as it keeps
 * to the batch's limits: {@link MAX_BATCH_FILES} files, {@link MAX_BATCH_BYTES} of data,
 * and an ITEM of at most 16 KiB [F-LIMIT].
 */
export class BatchPlan {
  readonly entries: BatchableFile[] = [];
  #dir: readonly string[] = [];
  #bytes = 0;
  #headerBytes = HEADER_BASE_BYTES;

  /** Adds `item` when it fits the batch; false (nothing added) otherwise. */
  add(item: PreparedItem): boolean {
    if (!isBatchable(item) || this.entries.length === MAX_BATCH_FILES) return false;
    const { path } = item.meta.entry;
    const dir = path.slice(0, -1);
    const first = this.entries.length === 0;
    if (!first && (dir.length !== this.#dir.length || dir.some((c, i) => c !== this.#dir[i]))) {
      return false;
    }
    // [RES-TREE] only the first file of a batch may name its tree.
    if (!first && item.meta.entry.tree !== undefined) return false;
    const bytes = this.#bytes + item.meta.size;
    const headerBytes =
      (first ? Buffer.byteLength(JSON.stringify(dir)) * 2 : 0) +
      this.#headerBytes +
      Buffer.byteLength(JSON.stringify(fileOf(item))) +
      1;
    if (bytes > MAX_BATCH_BYTES || headerBytes > MAX_CONTROL_FRAME_BYTES) return false;
    if (first) this.#dir = dir;
    this.#bytes = bytes;
    this.#headerBytes = headerBytes;
    this.entries.push(item);
    return true;
  }
}

/** What writing a batch needs of the connection. */
export interface BatchConnection {
  readonly writer: FrameWriter;
  readonly inFlight: ItemsInFlight;
  readonly files: SlabReader;
  /** Whether to hash what is sent [K-RECEIPT-CHECK]: a plain connection. */
  readonly digest: boolean;
}

/**
 * [T-BATCH] Writes a batch now: each file is read whole, and one that cannot be read, or
 * no longer has the size it was measured with, fails alone and is left out; the others
 * go as one item, its data their bytes one after another, each settled by its own answer
 * in the batch's receipt [T-BATCH-RECEIPT].
 */
export function writeBatch(
  entries: readonly BatchEntry[],
  settles: readonly BatchSettle[],
  connection: BatchConnection,
): void {
  const read: { readonly index: number; readonly bytes: Buffer }[] = [];
  entries.forEach(({ item }, index) => {
    const settle = settles[index] as BatchSettle;
    let bytes: Buffer;
    try {
      bytes = connection.files.read(item.path, item.meta.size);
    } catch (error) {
      settle.reject(inputFileError(item.path, "file", error));
      return;
    }
    if (bytes.length === item.meta.size) {
      read.push({ index, bytes });
      return;
    }
    connection.files.release(bytes);
    const how =
      bytes.length > item.meta.size
        ? `it grew past the ${item.meta.size} bytes it had`
        : `it ended after ${bytes.length} of its ${item.meta.size} bytes`;
    settle.reject(
      new InputError(
        ErrorCode.INPUT_UNREADABLE,
        `${item.meta.name} changed while it was being sent (${how}); it was not sent`,
      ),
    );
  });
  if (read.length === 0) return;
  const first = (entries[0] as BatchEntry).item.meta.entry;
  const dir = first.path.slice(0, -1);
  const files = read.map(({ index }) => fileOf((entries[index] as BatchEntry).item));
  const size = files.reduce((sum, file) => sum + file.size, 0);
  const meta: BatchMeta = {
    kind: "files",
    name: dir[dir.length - 1] ?? "",
    size,
    dir,
    files,
    ...(first.tree === undefined ? {} : { tree: first.tree }),
  };
  const slotFiles: BatchSlotFile[] = read.map(({ index, bytes }) => {
    const settle = settles[index] as BatchSettle;
    const { name, size: fileSize } = (entries[index] as BatchEntry).item.meta;
    return {
      name,
      size: fileSize,
      sha256: connection.digest ? sha256Hex(bytes) : undefined,
      resolve: settle.resolve,
      reject: settle.reject,
    };
  });
  const slot = new ItemSlot(
    meta,
    () => undefined,
    (error) => {
      for (const file of slotFiles) file.reject(error);
    },
    connection.inFlight.forget,
  );
  slot.batch = slotFiles;
  connection.inFlight.add(slot);
  const chunker = ItemChunker.begin(connection.writer, slot, {
    digest: false,
    recycle: connection.files.release,
  });
  for (const { index, bytes } of read) {
    chunker.add(bytes);
    entries[index]?.onSent?.();
  }
  chunker.end();
}

function fileOf(item: BatchableFile): BatchFile {
  const { name, size, entry } = item.meta;
  return { name, size, mtimeMs: entry.mtimeMs, exec: entry.exec };
}
