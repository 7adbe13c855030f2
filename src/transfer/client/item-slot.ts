import { ErrorCode, InputError, type GbError } from "../../errors.js";
import type { BatchMeta, ItemMeta } from "../../protocol/messages.js";
import type { SentItem } from "./client-options.js";

/**
 * An item, from the call that sends it until its answer (or a failure) settles it. It
 * gets its wire id when its turn to go out comes, and its byte count and
 * SHA-256 as its data goes out.
 *
 * Settling is its one teardown path: the item stops being tracked, the reading of its
 * source stops, and its caller's promise settles.
 */
/**
 * [T-BATCH] One file of a batch: what was sent of it, and how its own answer in the
 * batch's receipt settles it.
 */
export interface BatchSlotFile {
  readonly name: string;
  readonly size: number;
  /** SHA-256 of what was sent, on a plain connection [K-RECEIPT-CHECK]. */
  readonly sha256: string | undefined;
  readonly resolve: (item: SentItem) => void;
  readonly reject: (error: GbError) => void;
}

export class ItemSlot {
  /** The wire id; 0 until the item goes out. */
  id = 0;
  readonly meta: ItemMeta | BatchMeta;
  /** [T-BATCH] A batch's files, each answered in its receipt; undefined for one item. */
  batch: readonly BatchSlotFile[] | undefined;
  /** Plaintext bytes sent so far. */
  bytes = 0;
  /** True once its LAST_CHUNK is written: the item is all sent, and may be answered. */
  sent = false;
  /**
   * SHA-256 of the plaintext, set with {@link sent} on a plain connection; undefined in
   * an encrypted session, where the client does not hash what it sends [K-RECEIPT-SESSION].
   */
  sha256: string | undefined;
  /**
   * [RES-RESUME] Bytes the server held and that were not sent again; undefined when the
   * item did not ask to resume.
   */
  resumed: number | undefined;
  /** The item failed (refused, or the connection failed) before it was all sent. */
  aborted = false;
  settled = false;
  /**
   * Aborted when the item settles: stops reading its source. Made only for streamed
   * sources; a dictionary is already in memory.
   */
  stopReading: AbortController | undefined;
  /**
   * The caller's promise, when it is marked handled only if it fails (see {@link reject}):
   * cheaper, per pipelined dictionary, than a handler attached to every promise.
   */
  promise: Promise<SentItem> | undefined;
  /**
   * How its source changed while it was read, when it no longer matched the size
   * declared (it grew past it, or ended short): the server's SIZE_MISMATCH for it is
   * then the file's doing, reported as an input error.
   */
  changedLocally: string | undefined;
  /** Bytes read from its source so far, counting a resumed prefix. */
  #read: number | undefined;
  readonly #resolve: (item: SentItem) => void;
  readonly #reject: (error: GbError) => void;
  readonly #onSettled: (slot: ItemSlot) => void;

  /** @param onSettled called once, when the item settles either way. */
  constructor(
    meta: ItemMeta | BatchMeta,
    resolve: (item: SentItem) => void,
    reject: (error: GbError) => void,
    onSettled: (slot: ItemSlot) => void,
  ) {
    this.meta = meta;
    this.#resolve = resolve;
    this.#reject = reject;
    this.#onSettled = onSettled;
  }

  /** A slot that makes its own promise, kept in {@link promise}. */
  static withPromise(
    meta: ItemMeta,
    onSettled: (slot: ItemSlot) => void,
  ): { readonly slot: ItemSlot; readonly promise: Promise<SentItem> } {
    let slot!: ItemSlot;
    const promise = new Promise<SentItem>((resolve, reject) => {
      slot = new ItemSlot(meta, resolve, reject, onSettled);
    });
    slot.promise = promise;
    return { slot, promise };
  }

  resolve(item: SentItem): void {
    if (this.#settle()) this.#resolve(item);
  }

  /** [T-BATCH-RECEIPT] Settles a batch's files, each by its own answer, in order. */
  resolveBatch(answers: readonly (SentItem | GbError)[]): void {
    if (!this.#settle()) return;
    answers.forEach((answer, index) => {
      const file = this.batch?.[index];
      if (answer instanceof Error) file?.reject(answer);
      else file?.resolve(answer);
    });
  }

  /**
   * Counts `bytes` more read from the item's source; true once they go past its declared
   * size (the file grew while it was read: it is not read further).
   */
  grewPast(bytes: number): boolean {
    this.#read = (this.#read ?? this.resumed ?? 0) + bytes;
    const declared = this.meta.size;
    if (declared === null || this.#read <= declared) return false;
    this.changedLocally = `it grew past the ${declared} bytes it had`;
    return true;
  }

  /** The item's source ended: notes it if that was short of its declared size. */
  endedShort(): void {
    const read = this.#read ?? this.resumed ?? 0;
    const declared = this.meta.size;
    if (declared !== null && read < declared) {
      this.changedLocally = `it ended after ${read} of its ${declared} bytes`;
    }
  }

  reject(error: GbError): void {
    this.aborted = true;
    if (!this.#settle()) return;
    if (this.promise !== undefined) void handled(this.promise);
    const changed = this.changedLocally;
    if (changed === undefined || error.code !== ErrorCode.SIZE_MISMATCH) {
      this.#reject(error);
      return;
    }
    this.#reject(
      new InputError(
        ErrorCode.INPUT_UNREADABLE,
        `${this.meta.name} changed while it was being sent (${changed}); the server discarded it`,
        { cause: error },
      ),
    );
  }

  /** Returns false when the item had settled already. */
  #settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    this.#onSettled(this);
    // Stop waiting on the source at once, even if it is stalled mid-read.
    this.stopReading?.abort();
    return true;
  }
}

/**
 * Marks an item's promise as handled: its outcome is also what `GbClient.close` waits
 * for, and a caller that awaits items one by one must not see a later item's failure
 * reported as an unhandled rejection before it gets to it.
 */
export function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => undefined);
  return promise;
}
