/**
 * The entry point of a dictionary worker thread (see {@link DictWorkerPool}): it takes
 * one job at a time from the server, decodes, checks and renders the dictionary, writes
 * the stored text straight into the item's temporary file, and answers with what the
 * server's listeners are given. Whatever the dictionary costs in time and memory is
 * spent here, within the thread's resource limits, not on the server's event loop.
 */
import { createHash, type Hash } from "node:crypto";
import { ftruncateSync, writeSync } from "node:fs";
import { parentPort } from "node:worker_threads";
import { ErrorCode, GbError } from "../../errors.js";
import { decodeReceivedDict } from "./decode-received-dict.js";
import { parseDictJob, type DictJobAnswer } from "./dict-job.js";
import type { StoredDictSink } from "./format-stored-dict.js";

/**
 * Writes the stored text at explicit positions, so that a restart can truncate, and
 * hashes it as written for the receipt [M-RECEIPT-STORED].
 */
class FileSink implements StoredDictSink {
  #position = 0;
  #hash: Hash = createHash("sha256");

  constructor(readonly fd: number) {}

  get bytes(): number {
    return this.#position;
  }

  /** The SHA-256 (hex) of everything written since the last restart. */
  digest(): string {
    return this.#hash.digest("hex");
  }

  write(text: string): void {
    const bytes = Buffer.from(text, "utf8");
    let offset = 0;
    while (offset < bytes.length) {
      offset += writeSync(this.fd, bytes, offset, bytes.length - offset, this.#position + offset);
    }
    this.#position += bytes.length;
    this.#hash.update(bytes);
  }

  restart(): void {
    ftruncateSync(this.fd, 0);
    this.#position = 0;
    this.#hash = createHash("sha256");
  }
}

function answer(job: unknown): DictJobAnswer {
  const parsed = parseDictJob(job);
  if (parsed === undefined) {
    return { ok: false, failure: { code: ErrorCode.INTERNAL, message: "a malformed job" } };
  }
  try {
    const sink = parsed.fd === null ? null : new FileSink(parsed.fd);
    const decoded = decodeReceivedDict(parsed.bytes, parsed.format, parsed.limits, parsed, sink);
    return {
      ok: true,
      outcome: {
        ...decoded,
        storedBytes: sink?.bytes ?? null,
        storedSha256: sink?.digest() ?? null,
      },
    };
  } catch (error) {
    if (error instanceof GbError) {
      return { ok: false, failure: { code: error.code, message: error.message } };
    }
    const detail = error instanceof Error ? error.message : String(error);
    // The file writes fail with a system error (ENOSPC, EIO …): the disk's fault.
    if (error instanceof Error && "syscall" in error) {
      return { ok: false, failure: { code: ErrorCode.STORAGE_FAILED, message: detail } };
    }
    // A string or array past what the engine can hold: the dictionary is too large to render.
    if (error instanceof RangeError) {
      return { ok: false, failure: { code: ErrorCode.DICT_TOO_LARGE, message: detail } };
    }
    return { ok: false, failure: { code: ErrorCode.INTERNAL, message: detail } };
  }
}

parentPort?.on("message", (job: unknown) => {
  parentPort?.postMessage(answer(job));
});
