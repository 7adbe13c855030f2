import { ErrorCode, ProtocolError } from "../../errors.js";
import { decodeOffer, type OfferMessage } from "../../protocol/resume-messages.js";

/** The item awaiting its OFFER: its id and size, and how to hand the OFFER over. */
interface Awaiting {
  readonly id: number;
  readonly size: number;
  readonly take: (offer: OfferMessage) => void;
}

/**
 * The client's side of [RES-OFFER]: the one item that asked to resume and awaits its
 * OFFER (items go out one after another, so there is at most one), and the checks on
 * every OFFER the server sends.
 */
export class ResumeOffers {
  #awaiting: Awaiting | undefined;

  /**
   * Waits for the OFFER of item `id`, of `size` bytes. Resolves with undefined when
   * `signal` aborts first (the item was refused, or the connection failed).
   */
  expect(id: number, size: number, signal: AbortSignal): Promise<OfferMessage | undefined> {
    return new Promise((resolve) => {
      if (signal.aborted) {
        resolve(undefined);
        return;
      }
      const onAbort = (): void => {
        this.#awaiting = undefined;
        resolve(undefined);
      };
      signal.addEventListener("abort", onAbort, { once: true });
      this.#awaiting = {
        id,
        size,
        take: (offer) => {
          signal.removeEventListener("abort", onAbort);
          this.#awaiting = undefined;
          resolve(offer);
        },
      };
    });
  }

  /**
   * An OFFER from the server.
   * @throws {ProtocolError} UNEXPECTED_FRAME when no item awaits one or another item
   *   does; MALFORMED_MESSAGE when it is malformed or offers more than the item's size.
   */
  receive(payload: Buffer): void {
    const offer = decodeOffer(payload);
    const awaiting = this.#awaiting;
    if (awaiting === undefined || awaiting.id !== offer.id) {
      throw new ProtocolError(
        ErrorCode.UNEXPECTED_FRAME,
        awaiting === undefined
          ? `an OFFER for item ${offer.id}, which did not ask to resume`
          : `an OFFER for item ${offer.id} while item ${awaiting.id} awaits one`,
      );
    }
    if (offer.offset > awaiting.size) {
      throw new ProtocolError(
        ErrorCode.MALFORMED_MESSAGE,
        `an OFFER of ${offer.offset} bytes for an item of ${awaiting.size}`,
      );
    }
    awaiting.take(offer);
  }
}
