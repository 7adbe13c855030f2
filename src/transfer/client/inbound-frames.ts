import type { RecordOpener } from "../../crypto/record-opener.js";
import { toGbError, type GbError } from "../../errors.js";
import type { FrameParser } from "../../framing/frame-parser.js";
import { FrameType } from "../../protocol/constants.js";
import type { HeldAnswers } from "./held-answers.js";
import type { ItemsInFlight } from "./items-in-flight.js";
import { readAnswer } from "./read-answer.js";
import type { ResumeOffers } from "./resume-offers.js";

/** Where the server's frames go: the OFFER and HELD awaited, and the items in flight. */
export interface AnswerRoutes {
  readonly offers: ResumeOffers;
  readonly held: HeldAnswers;
  readonly inFlight: ItemsInFlight;
  /** The session is encrypted [K-RECEIPT-SESSION]: receipts carry the digest. */
  readonly encrypted: boolean;
}

/**
 * A connection-wide failure found in what the server sent; `drop`: the connection must
 * be dropped too (bad data, a failed record), not only its items failed.
 */
export type InboundFailure = (error: GbError, drop: boolean) => void;

/**
 * The client's side of what the server sends: bytes in, frames out (in a session, records
 * opened first [R-VERIFY]), each frame handed to what awaits it: an OFFER or a HELD to
 * its question, an item's answer to the oldest item in flight [K-ORDER].
 */
export class InboundFrames {
  readonly #parser: FrameParser;
  readonly #opener: RecordOpener | undefined;
  readonly #routes: AnswerRoutes;
  readonly #onFailure: InboundFailure;

  constructor(
    parser: FrameParser,
    opener: RecordOpener | undefined,
    routes: AnswerRoutes,
    onFailure: InboundFailure,
  ) {
    this.#parser = parser;
    this.#opener = opener;
    this.#routes = routes;
    this.#onFailure = onFailure;
  }

  /**
   * What came with the handshake: frames already opened (a BUSY refusal with HELLO, say),
   * or the failure of the first record.
   */
  early(plaintexts: readonly Buffer[], failure: unknown): void {
    for (const plaintext of plaintexts) this.#parser.push(plaintext);
    this.#read();
    if (failure !== undefined) this.#recordFailed(failure);
  }

  /** Bytes from the server: frames, or in a session records of frames [R-VERIFY]. */
  receive(chunk: Buffer): void {
    const opener = this.#opener;
    if (opener === undefined) {
      this.#parser.push(chunk);
      this.#read();
      return;
    }
    // After a failed record nothing more is opened; the connection is being dropped.
    const plaintexts = opener.failure === undefined ? opener.push(chunk) : [];
    for (const plaintext of plaintexts) this.#parser.push(plaintext);
    // The frames before a bad record were verified: they are read first.
    this.#read();
    const failure = opener.failure;
    if (failure !== undefined) this.#recordFailed(failure);
  }

  /** [R-FAIL] A record failed: every item awaiting its answer fails with it. */
  #recordFailed(error: unknown): void {
    this.#onFailure(toGbError(error, "a record from the server failed"), true);
  }

  #read(): void {
    const routes = this.#routes;
    for (;;) {
      try {
        const unit = this.#parser.next();
        if (unit === undefined) return;
        if (unit.kind === "preamble") continue;
        const { type, payload } = unit.frame;
        if (type === FrameType.OFFER || type === FrameType.HELD) {
          (type === FrameType.OFFER ? routes.offers : routes.held).receive(payload);
          continue;
        }
        const answer = readAnswer(type, payload, routes.inFlight.oldest(), routes.encrypted);
        if ("connectionFailed" in answer) this.#onFailure(answer.connectionFailed, false);
        else if ("stored" in answer) answer.slot.resolve(answer.stored);
        else if ("files" in answer) answer.slot.resolveBatch(answer.files);
        else answer.slot.reject(answer.failed);
      } catch (error) {
        this.#onFailure(toGbError(error, "bad data from the server"), true);
        return;
      }
    }
  }
}
