import { ftruncate } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { promisify } from "node:util";
import {
  PendingFile,
  storageError,
  type FileNamingTurn,
  type StoredDigest,
  type FilePlacement,
} from "./item-store.js";

const truncateFile = promisify(ftruncate);

/** Bytes received between two checkpoints of a partial [RES-STATE]. */
export const CHECKPOINT_BYTES = 16 * 1024 * 1024;

/** What a partial reports to the state that holds it, as it goes. */
export interface PartialRecorder {
  /**
   * Records that the partial holds `bytes` on stable storage (its description).
   * @throws {StorageError} STORAGE_FAILED
   */
  record(bytes: number): Promise<void>;
  /** The partial ended: `kept` with `bytes` recorded, or gone (stored or discarded). */
  release(
    outcome: { readonly kept: true; readonly bytes: number } | { readonly kept: false },
  ): void;
  /** Removes what the state holds of the partial beside its data (the description). */
  forget(): Promise<void>;
  /**
   * [RES-BUSY] The item arrived whole and is being stored: its connection is no longer
   * ended when the key is asked for again (that ask waits for the file to be stored).
   */
  committing(): void;
}

/**
 * The file of an item that asked to resume, kept in the server's state directory
 * [RES-STATE]: written like any received file, named like one once complete and
 * verified, but flushed and recorded every {@link CHECKPOINT_BYTES} as it arrives and
 * kept, not discarded, when its connection is cut short [RES-FAIL].
 */
export class ResumablePartial extends PendingFile {
  readonly #recorder: PartialRecorder;
  /** Bytes of the item written or queued: the prefix kept, then what arrived. */
  #written: number;
  /** Bytes the description records. */
  #recorded: number;
  #checkpoint: Promise<void> | undefined;
  #ended = false;

  /**
   * @param handle the partial, opened for appending, holding exactly `bytes` bytes.
   */
  constructor(
    partial: { readonly path: string; readonly handle: FileHandle; readonly bytes: number },
    target: { readonly directory: string; readonly baseName: string; readonly durable: boolean },
    placement: FilePlacement | undefined,
    recorder: PartialRecorder,
  ) {
    super(
      target.directory,
      target.baseName,
      partial.path,
      partial.handle,
      target.durable,
      placement,
    );
    this.#recorder = recorder;
    this.#written = partial.bytes;
    this.#recorded = partial.bytes;
  }

  /**
   * Empties the partial: the client's prefix differs from it, and the item starts over
   * [RES-RESUME]. Only before any of the item's data was written.
   * @throws {StorageError} STORAGE_FAILED
   */
  async restart(): Promise<void> {
    await this.sync();
    await this.#recorder.record(0);
    this.#recorded = 0;
    await truncateFile(this.fd, 0).catch((error: unknown) => {
      throw storageError("cannot empty the partial file", error);
    });
    this.#written = 0;
  }

  override write(pieces: readonly Uint8Array[]): Promise<void> | undefined {
    const pending = super.write(pieces);
    for (const piece of pieces) this.#written += piece.length;
    if (this.#written - this.#recorded >= CHECKPOINT_BYTES && this.#checkpoint === undefined) {
      const upTo = this.#written;
      // [RES-STATE] the bytes first, then the description that counts them. A failure
      // here is the write's, which the item hears of from its next write or commit.
      this.#checkpoint = this.sync()
        .then(() => this.#recorder.record(upTo))
        .then(
          () => {
            this.#recorded = upTo;
          },
          () => undefined,
        )
        .finally(() => {
          this.#checkpoint = undefined;
        });
    }
    return pending;
  }

  override async commit(turn?: FileNamingTurn, stored?: StoredDigest): Promise<string> {
    this.#recorder.committing();
    await this.#checkpoint;
    try {
      return await super.commit(turn, stored);
    } finally {
      await this.#end({ kept: false });
    }
  }

  /** [RES-FAIL] The connection ended mid-item: flush, record and keep what arrived. */
  override async keep(): Promise<void> {
    await this.#checkpoint;
    // Nothing arrived: nothing worth keeping.
    if (this.#written === 0) {
      await this.abort();
      return;
    }
    try {
      await this.suspend();
      await this.#recorder.record(this.#written);
      this.#recorded = this.#written;
    } catch {
      // Kept at what was last recorded: the description never promises more.
    }
    if (this.#ended) return;
    this.#ended = true;
    this.#recorder.release({ kept: true, bytes: this.#recorded });
  }

  /** [RES-FAIL] The item failed: its partial goes with it. */
  override async abort(): Promise<void> {
    await this.#checkpoint;
    await super.abort();
    await this.#end({ kept: false });
  }

  async #end(outcome: { readonly kept: false }): Promise<void> {
    if (this.#ended) return;
    this.#ended = true;
    await this.#recorder.forget().catch(() => undefined);
    this.#recorder.release(outcome);
  }
}
