import { createHash, type Hash } from "node:crypto";
import { ErrorCode, ProtocolError } from "../../errors.js";
import { decodeResume, encodeOffer } from "../../protocol/resume-messages.js";
import type { InboundItem } from "./inbound-item.js";
import type { FilePlacement, PendingFile } from "./item-store.js";
import type { ResumablePartial } from "./resume-partial.js";
import type { SessionContext } from "./session-context.js";

/** What the exchange needs from the server. */
export type OfferContext = Pick<SessionContext, "store" | "resume">;

/**
 * The server's side of [RES-OFFER] and [RES-RESUME] for one item that asked to resume:
 * it opens the item's file (the partial kept of its key, or a fresh file when the item
 * goes without state), sends the OFFER, and holds the client's RESUME to it.
 */
export class ResumeOffer {
  readonly #item: InboundItem;
  readonly #key: string;
  readonly #size: number;
  readonly #context: OfferContext;
  readonly #send: (payload: Buffer) => void;
  readonly #takeOver: () => void;
  #offset = 0;
  /** SHA-256 of the bytes offered, to go on with when the client resumes. */
  #hash: Hash | undefined;
  #partial: ResumablePartial | undefined;

  private constructor(
    item: InboundItem,
    request: { readonly key: string; readonly size: number },
    context: OfferContext,
    send: (payload: Buffer) => void,
    takeOver: () => void,
  ) {
    this.#item = item;
    this.#takeOver = takeOver;
    this.#key = request.key;
    this.#size = request.size;
    this.#context = context;
    this.#send = send;
  }

  /**
   * The exchange of an item that asked to resume; undefined for any other item. `send`
   * sends its OFFER; `takeOver` ends its connection, should the same key be asked for on
   * another one while this item holds it [RES-BUSY].
   */
  static of(
    item: InboundItem,
    context: OfferContext,
    send: (payload: Buffer) => void,
    takeOver: () => void,
  ): ResumeOffer | undefined {
    const meta = item.meta;
    if (meta.kind !== "file" || meta.resume === undefined || meta.size === null) return undefined;
    const request = { key: meta.resume.key, size: meta.size };
    return new ResumeOffer(item, request, context, send, takeOver);
  }

  /**
   * Opens the item's file, to be named `baseName` (where `placement` says, for an entry of
   * a tree), and sends the OFFER: what the server holds of the key, or 0 when it does not
   * save, holds nothing, or the item goes without state [RES-BUSY] [RES-BOUND].
   * @returns the file, or undefined when the server does not save.
   * @throws {StorageError} STORAGE_FAILED / {RefusedError} BUSY when no file can be made.
   */
  async begin(baseName: string, placement?: FilePlacement): Promise<PendingFile | undefined> {
    const store = this.#context.store;
    const state = this.#context.resume;
    let file: PendingFile | undefined;
    const claim =
      store === null || state === null
        ? undefined
        : await state.claim(this.#key, this.#size, this.#takeOver);
    if (claim !== undefined && store !== null) {
      try {
        this.#partial = await claim.open(baseName, placement, store.durable);
      } catch (error) {
        claim.release();
        throw error;
      }
      file = this.#partial;
      this.#offset = claim.offset;
      this.#hash = claim.hash;
    } else if (store !== null) file = await store.begin(baseName, placement);
    // [RES-OFFER] never more than the item's size (a kept partial has the same size).
    const sha256 = (this.#hash?.copy() ?? createHash("sha256")).digest("hex");
    if (!this.#item.released)
      this.#send(encodeOffer({ id: this.#item.id, offset: this.#offset, sha256 }));
    return file;
  }

  /**
   * [RES-RESUME] Takes the client's RESUME: from the offset offered, the item goes on
   * from there; from 0, its partial is emptied and it starts over.
   * @returns a promise while the partial is emptied; it rejects with STORAGE_FAILED.
   * @throws {ProtocolError} MALFORMED_MESSAGE for another id, or a `from` that is neither.
   */
  accept(payload: Buffer): Promise<void> | undefined {
    const message = decodeResume(payload);
    const id = this.#item.id;
    if (message.id !== id) {
      throw new ProtocolError(
        ErrorCode.MALFORMED_MESSAGE,
        `a RESUME for item ${message.id} while item ${id} awaits one`,
      );
    }
    if (message.from !== 0 && message.from !== this.#offset) {
      throw new ProtocolError(
        ErrorCode.MALFORMED_MESSAGE,
        `a RESUME from byte ${message.from}; the server offered ${this.#offset} or 0`,
      );
    }
    if (message.from === 0) return this.#offset > 0 ? this.#partial?.restart() : undefined;
    if (this.#hash !== undefined) this.#item.resumeAt(message.from, this.#hash);
    return undefined;
  }
}
