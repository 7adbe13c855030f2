import { ErrorCode, ProtocolError, type GbError } from "../../errors.js";
import type { ReceiptBody } from "../../protocol/messages.js";
import {
  decodeHeld,
  encodeHave,
  MAX_HAVE_KEYS,
  type HeldMessage,
} from "../../protocol/tree-messages.js";

/** A HAVE sent, awaiting its HELD. */
interface Awaiting {
  readonly tree: string;
  readonly count: number;
  readonly take: (held: HeldMessage) => void;
}

/** What the server holds of each entry asked about: its receipt, or null [RES-HAVE]. */
export type HeldReceipts = (ReceiptBody | null)[];

/**
 * The client's side of [RES-HAVE]: the HAVE frames sent and awaiting their HELD, which
 * the server answers in order, and the checks on every HELD [M-HELD].
 */
export class HeldAnswers {
  readonly #awaiting: Awaiting[] = [];
  readonly #failures = new Set<(error: GbError) => void>();
  /** Trees the server said it holds nothing of [M-HELD]. */
  readonly #nothingHeld = new Set<string>();

  /**
   * [M-HELD] True once the server said it holds no entry of `tree`: its other entries
   * need not be asked about.
   */
  holdsNothing(tree: string): boolean {
    return this.#nothingHeld.has(tree);
  }

  /** True when no HAVE awaits its answer. */
  get idle(): boolean {
    return this.#failures.size === 0;
  }

  /**
   * Asks about `keys` of the tree `tree`, in HAVE frames of up to {@link MAX_HAVE_KEYS}
   * keys each given to `send` now, in order; resolves with an answer per key.
   */
  ask(tree: string, keys: readonly string[], send: (have: Buffer) => void): Promise<HeldReceipts> {
    const batches: Promise<HeldReceipts>[] = [];
    for (let start = 0; start < keys.length; start += MAX_HAVE_KEYS) {
      const batch = keys.slice(start, start + MAX_HAVE_KEYS);
      batches.push(this.#expect(tree, batch.length));
      send(encodeHave({ tree, keys: batch }));
    }
    return Promise.all(batches).then((answers) => answers.flat());
  }

  #expect(tree: string, count: number): Promise<HeldReceipts> {
    return new Promise((resolve, reject) => {
      const fail = (error: GbError): void => {
        reject(error);
      };
      this.#failures.add(fail);
      this.#awaiting.push({
        tree,
        count,
        take: (held) => {
          this.#failures.delete(fail);
          resolve([...held.held]);
        },
      });
    });
  }

  /**
   * A HELD from the server, the answer to the oldest HAVE.
   * @throws {ProtocolError} UNEXPECTED_FRAME when no HAVE awaits one; MALFORMED_MESSAGE
   *   when it is malformed, for another tree, or not one answer per key asked.
   */
  receive(payload: Buffer): void {
    const held = decodeHeld(payload);
    const awaiting = this.#awaiting.shift();
    if (awaiting === undefined) {
      throw new ProtocolError(ErrorCode.UNEXPECTED_FRAME, "a HELD frame, but no HAVE awaits one");
    }
    if (held.tree !== awaiting.tree || held.held.length !== awaiting.count) {
      throw new ProtocolError(
        ErrorCode.MALFORMED_MESSAGE,
        `malformed message: a HELD with ${held.held.length} answers for a HAVE of ${awaiting.count} keys, or for another tree`,
      );
    }
    if (held.nothing === true) this.#nothingHeld.add(held.tree);
    awaiting.take(held);
  }

  /** The connection failed: every HAVE awaiting its answer fails with it. */
  fail(error: GbError): void {
    this.#awaiting.length = 0;
    for (const fail of this.#failures) fail(error);
    this.#failures.clear();
  }
}
