import { createHash, type Hash } from "node:crypto";
import { stat } from "node:fs/promises";
import path from "node:path";
import type { FrameWriter } from "../../framing/frame-writer.js";
import { FrameType } from "../../protocol/constants.js";
import { encodeResume } from "../../protocol/resume-messages.js";
import { inputFileError } from "../inputs/input-file-error.js";
import type { ItemOptions } from "./client-options.js";
import type { ItemChunker } from "./item-chunker.js";
import { PooledFileReader } from "./pooled-file-reader.js";
import type { PreparedFile } from "./prepared-item.js";
import type { ResumeOffers } from "./resume-offers.js";
import type { StreamedItem } from "./whole-item.js";

/** [RES-ASK] Files smaller than this are sent whole: 1 MiB. */
export const RESUME_MIN_BYTES = 1024 * 1024;
/** [RES-KEY] The bytes of the head of a file its key covers: 1 MiB. */
const KEY_HEAD_BYTES = 1024 * 1024;
/** [RES-KEY] What the key's description starts with, so that it names nothing else. */
const KEY_LABEL = "gb-transfer/2 resume key";
/** Bytes per read when hashing a prefix, in {@link PREFIX_READ_BUFFERS} reused buffers. */
const READ_BYTES = 256 * 1024;
/** One buffer being hashed while the next is read. */
const PREFIX_READ_BUFFERS = 2;

/**
 * [RES-ASK] A file that asks to resume, ready to go out: its metadata with its key
 * [RES-KEY], and its source. Undefined for a file that does not ask (under
 * {@link RESUME_MIN_BYTES}, or `options.resume` false).
 * @throws {InputFileError} INPUT_UNREADABLE (the promise rejects) when it cannot be read.
 */
export function openResumable(
  file: PreparedFile,
  options: ItemOptions,
): Promise<StreamedItem> | undefined {
  if (options.resume === false || file.meta.size < RESUME_MIN_BYTES) return undefined;
  return (async () => {
    const key = await resumeKey(file.path, file.meta.size).catch((error: unknown) => {
      throw inputFileError(file.path, "file", error);
    });
    return {
      meta: { ...file.meta, resume: { key } },
      source: new ResumableFile(file.path, file.meta.size, options.onResume),
    };
  })();
}

/**
 * [RES-KEY] The key of the file at `filePath` of `size` bytes: the SHA-256 of the JSON
 * text of its absolute path, size, modification time (whole ms) and the SHA-256 of its
 * first MiB, so that it cannot be computed without the file.
 */
export async function resumeKey(filePath: string, size: number): Promise<string> {
  const absolute = path.resolve(filePath);
  const info = await stat(absolute);
  const head = await hashPrefix(absolute, Math.min(size, KEY_HEAD_BYTES));
  const description = [KEY_LABEL, absolute, size, Math.floor(info.mtimeMs), head.digest("hex")];
  return createHash("sha256").update(JSON.stringify(description), "utf8").digest("hex");
}

/**
 * The source of a file that asked to resume: it takes the server's OFFER, answers it
 * with a RESUME [RES-RESUME], and then yields the file from where the data starts.
 */
export class ResumableFile implements AsyncIterable<Uint8Array> {
  readonly #path: string;
  readonly #size: number;
  readonly #onResume: ((offset: number) => void) | undefined;
  #from = 0;
  /** Reads the file when it is sent from its start: buffers used again and again. */
  #pooled: PooledFileReader | undefined;

  constructor(filePath: string, size: number, onResume?: (offset: number) => void) {
    this.#path = filePath;
    this.#size = size;
    this.#onResume = onResume;
  }

  /**
   * Between the ITEM and its data: waits for the OFFER of item `id`, compares the
   * SHA-256 of the file's first `offset` bytes with it, and sends RESUME from the offset
   * when they are equal, from 0 otherwise (a changed prefix is never spliced). Returns
   * without sending anything when `signal` aborts first (the item was refused [K-ABORT]).
   * @throws what reading the file throws.
   */
  async negotiate(
    id: number,
    exchange: { readonly offers: ResumeOffers; readonly writer: FrameWriter },
    chunker: ItemChunker,
    signal: AbortSignal,
  ): Promise<void> {
    const offer = await exchange.offers.expect(id, this.#size, signal);
    if (offer === undefined) return;
    // Refused while hashing: the server drops a RESUME of a refused item [RES-RESUME].
    const prefix = offer.offset > 0 ? await hashPrefix(this.#path, offer.offset) : undefined;
    const same = prefix !== undefined && prefix.copy().digest("hex") === offer.sha256;
    this.#from = same ? offer.offset : 0;
    exchange.writer.writeFrame(FrameType.RESUME, encodeResume({ id, from: this.#from }));
    // On a plain connection the item's digest goes on from the prefix [K-RECEIPT-CHECK].
    chunker.resumeAt(this.#from, same ? prefix : undefined);
    if (this.#from > 0) this.#onResume?.(this.#from);
  }

  /** Bytes the server held and that are not sent again. */
  get resumed(): number {
    return this.#from;
  }

  /** Gives back the buffer under a piece this source yielded, once it is written. */
  recycle(piece: Uint8Array): void {
    this.#pooled?.recycle(piece);
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    if (this.#from >= this.#size) return;
    if (this.#from === 0) {
      // Sent whole (the usual first run): as any file, through reused buffers.
      const pooled = (this.#pooled = new PooledFileReader(this.#path));
      try {
        yield* pooled;
      } finally {
        pooled.close();
      }
      return;
    }
    // The rest, from the offset resumed at: through reused buffers too.
    const rest = (this.#pooled = new PooledFileReader(this.#path, undefined, undefined, {
      start: this.#from,
    }));
    try {
      yield* rest;
    } finally {
      rest.close();
    }
  }
}

/** The SHA-256 of the first `bytes` bytes of the file at `filePath`, to go on with. */
async function hashPrefix(filePath: string, bytes: number): Promise<Hash> {
  const hash = createHash("sha256");
  if (bytes === 0) return hash;
  let read = 0;
  // Two reused buffers: hashing hundreds of MiB allocates nothing per read.
  const reader = new PooledFileReader(filePath, READ_BYTES, PREFIX_READ_BUFFERS, {
    length: bytes,
  });
  for await (const piece of reader) {
    hash.update(piece);
    read += piece.length;
    reader.recycle(piece);
  }
  if (read !== bytes) throw new RangeError(`${filePath} has fewer than ${bytes} bytes`);
  return hash;
}

/**
 * How the read buffers of `source` are given back once their last chunk is out, when it
 * reads a file through pooled buffers; undefined for any other source.
 */
export function recyclerOf(source: unknown): ((piece: Uint8Array) => void) | undefined {
  if (!(source instanceof PooledFileReader || source instanceof ResumableFile)) return undefined;
  return (piece) => {
    source.recycle(piece);
  };
}
