import { ErrorCode, IntegrityError } from "../../errors.js";
import type { BatchHeader, BatchMeta } from "../../protocol/messages.js";
import { InboundItem, type AdmissionContext } from "./inbound-item.js";
import type { SmallFileWriter } from "./small-file-writer.js";
import { keepSmallFileInMemory } from "./small-file-writer.js";
import {
  IN_OPEN_DIRECTORY,
  openEntry,
  type EntryOrder,
  type FileOpener,
  type TreePlacement,
} from "./tree-placement.js";

/**
 * [T-BATCH] A batch of small files being received: one wire item whose data is its
 * files' bytes one after another. Each file is an {@link InboundItem} of its own, a file
 * entry of the tree as if it had come alone (same id as the batch), so that it is placed,
 * held, stored, journaled and reported as any file entry; the batch cuts its data between
 * them. What they hold is released exactly once, by {@link release}.
 */
export class InboundBatch {
  readonly id: number;
  readonly meta: BatchMeta;
  /** Its files, in the batch's order. */
  readonly files: readonly InboundItem[];
  #bytes = 0;
  /** The file the next byte belongs to. */
  #current = 0;
  #released = false;

  private constructor(header: BatchHeader, files: readonly InboundItem[]) {
    this.id = header.id;
    this.meta = header.meta;
    this.files = files;
  }

  /**
   * Admits a batch: an item per file, all held in memory when the small-file writer's
   * budget has room for the whole batch, otherwise each written to a file of its own as
   * it arrives, as a file entry beyond that memory would be.
   */
  static admit(
    header: BatchHeader,
    context: AdmissionContext,
    smallFiles: SmallFileWriter | null,
  ): InboundBatch {
    const meta = header.meta;
    const inMemory = smallFiles?.reserveBatch(meta.size) === true;
    const files = meta.files.map((file, index) => {
      const path = [...meta.dir, file.name];
      const tree = index === 0 ? meta.tree : undefined;
      const { mtimeMs, exec } = file;
      const entry = tree === undefined ? { path, mtimeMs, exec } : { path, mtimeMs, exec, tree };
      const item = InboundItem.admit(
        { id: header.id, meta: { kind: "file", name: file.name, size: file.size, entry } },
        context,
      );
      if (inMemory) keepSmallFileInMemory(item, smallFiles, true);
      return item;
    });
    return new InboundBatch(header, files);
  }

  /** Files written to disk as they arrive (not held in memory): each holds an open file. */
  get filesOnDisk(): number {
    return this.files.filter((file) => !file.holdsFile).length;
  }

  /** Bytes of the batch's data received so far. */
  get bytes(): number {
    return this.#bytes;
  }

  get released(): boolean {
    return this.#released;
  }

  /** [F-CHUNK] as for any item: only the LAST_CHUNK may be empty. */
  checkChunkLength(length: number, last: boolean): void {
    this.files[0]?.checkChunkLength(length, last);
  }

  /**
   * [T-PLACE] Places the batch's files: the first as a file entry of the tree (its
   * directories created as `order` says), the others in the same directory, now open.
   * Resolves once every file that is not held in memory has its file to write to.
   */
  place(
    order: EntryOrder,
    tree: TreePlacement,
    opener: FileOpener | null,
  ): Promise<{ readonly discarded?: Promise<void> }> | undefined {
    const [first, ...rest] = this.files;
    if (first === undefined) return undefined;
    /** Removals of files made for files that ended meanwhile: the session's close waits. */
    const discarded: Promise<void>[] = [];
    const attach = (item: InboundItem, opening: ReturnType<typeof openEntry>): unknown =>
      opening?.then((file) => {
        const removal = file === undefined ? undefined : item.attachFile(file);
        if (removal !== undefined) discarded.push(removal);
      });
    const others = (): Promise<unknown> | undefined => {
      // A batch that ended while its first file was placed makes no more files.
      if (this.#released) return undefined;
      const pending = rest.map((item) =>
        attach(item, openEntry(item, IN_OPEN_DIRECTORY, tree, opener)),
      );
      return pending.some((opening) => opening !== undefined) ? Promise.all(pending) : undefined;
    };
    const result = (): { readonly discarded?: Promise<void> } =>
      discarded.length === 0 ? {} : { discarded: Promise.all(discarded).then(() => undefined) };
    const opening = attach(first, openEntry(first, order, tree, opener));
    if (opening === undefined) return others()?.then(result);
    return Promise.resolve(opening).then(others).then(result);
  }

  /**
   * Takes the batch's next chunk and hands each file its part of it.
   * @returns a promise when a file written to disk must be waited for.
   * @throws {IntegrityError} SIZE_MISMATCH when more than the batch's size arrived.
   */
  receive(parts: readonly Buffer[], length: number): Promise<void> | undefined {
    this.#bytes += length;
    if (this.#bytes > this.meta.size) {
      throw new IntegrityError(
        ErrorCode.SIZE_MISMATCH,
        `more than the declared ${this.meta.size} bytes arrived`,
      );
    }
    const waits: Promise<void>[] = [];
    for (const part of parts) {
      let offset = 0;
      while (offset < part.length) {
        const file = this.files[this.#current];
        // The size check above keeps every byte within the files.
        if (file === undefined) break;
        const room = (file.meta.size ?? 0) - file.bytes;
        if (room === 0) {
          this.#current++;
          continue;
        }
        const piece = part.subarray(offset, offset + room);
        offset += piece.length;
        const wait = file.receive([piece], piece.length);
        if (wait !== undefined) waits.push(wait);
      }
    }
    if (waits.length === 0) return undefined;
    return Promise.all(waits).then(() => undefined);
  }

  /**
   * [V-SIZE] The batch ended: every byte of every file arrived.
   * @throws {IntegrityError} SIZE_MISMATCH
   */
  checkComplete(): void {
    if (this.#bytes !== this.meta.size) {
      throw new IntegrityError(
        ErrorCode.SIZE_MISMATCH,
        `the batch ended after ${this.#bytes} of the declared ${this.meta.size} bytes`,
      );
    }
  }

  /** Releases what every file still holds (see {@link InboundItem.release}); never rejects. */
  release(keep = false): Promise<void> | undefined {
    if (this.#released) return undefined;
    this.#released = true;
    const pending = this.files
      .map((file) => file.release(keep))
      .filter((released) => released !== undefined);
    return pending.length === 0 ? undefined : Promise.all(pending).then(() => undefined);
  }
}
