import { ErrorCode, toGbError, type GbError } from "../../errors.js";
import type { FrameWriter } from "../../framing/frame-writer.js";
import { FrameType } from "../../protocol/constants.js";
import { cutErrorMessage, encodeError, receiptText } from "../../protocol/messages.js";
import { AnswerQueue } from "./answer-queue.js";
import type { CommittedBatch } from "./batch-commit.js";
import type { InboundBatch } from "./inbound-batch.js";
import type { InboundItem } from "./inbound-item.js";
import type { CommittedItem } from "./item-commit.js";
import type { Peer, SessionInfo } from "./received-item.js";
import type { SessionContext } from "./session-context.js";

/**
 * Items of one connection committing at once (their files flushed side by side, their
 * answers held in order) before the session stops reading [V-GROUP], counted in the
 * weight of an item that holds an open file (or a dictionary) until it is flushed.
 */
export const MAX_COMMITS_IN_FLIGHT = 32;
/**
 * What a small file held in memory, or a directory of a tree, weighs against
 * {@link MAX_COMMITS_IN_FLIGHT}: it holds no descriptor, and a file's bytes are bounded by
 * the small-file writer's budget, so that 256 of them may be committing at once, enough
 * to keep the writer's batches full.
 */
const LIGHT_WEIGHT = 1 / 8;
/** What any other item weighs. */
const ITEM_WEIGHT = 1;

/** How long a peer that does not read gets to take our last frame before the socket is destroyed. */
const CLOSE_LINGER_MS = 1000;

/** An item refused before it was admitted: it holds nothing. */
export interface RefusedItem {
  readonly id: number;
  /** The name its header gave: a failure names the item whenever the server knows it. */
  readonly name: string;
}

/** What the answers of a connection need from its session. */
export interface AnswerChannel {
  readonly peer: Peer;
  readonly context: Pick<SessionContext, "onItem" | "onFailure">;
  /** The writer of the moment: in the clear, or into records. */
  writer(): FrameWriter;
  /** The session as far as it got. */
  session(): SessionInfo;
  /** Closes the socket at once. */
  destroy(): void;
}

/**
 * The answers of one connection: each item's RECEIPT or item ERROR, then the connection's
 * own ERROR or its end, written in item order [K-ORDER] however the commits behind them
 * overlap [V-GROUP], and reported to the server's listeners as they go out. An answer
 * for a client that can no longer hear is still reported.
 */
export class SessionAnswers {
  readonly #queue = new AnswerQueue(MAX_COMMITS_IN_FLIGHT);
  readonly #channel: AnswerChannel;

  constructor(channel: AnswerChannel) {
    this.#channel = channel;
  }

  /** A promise while {@link MAX_COMMITS_IN_FLIGHT} answers are held: read nothing more until then. */
  room(): Promise<void> | undefined {
    return this.#queue.room();
  }

  /** True while an item's answer waits to go out: its commit, the server's own work, runs. */
  get pending(): boolean {
    return this.#queue.size > 0;
  }

  /** Undefined when every answer has gone out; otherwise resolves once they have. */
  idle(): Promise<void> | undefined {
    return this.#queue.idle();
  }

  /**
   * Answers a complete item once its commit is done: its RECEIPT or, when the commit
   * fails, its item ERROR. `onFailure` runs as soon as the commit fails, before the
   * answers ahead of it have gone out (to free what the item holds).
   */
  committed(
    item: InboundItem,
    committed: CommittedItem | Promise<CommittedItem>,
    onFailure: () => void,
  ): void {
    const weight = item.holdsFile || item.meta.kind === "dir" ? LIGHT_WEIGHT : ITEM_WEIGHT;
    if (!(committed instanceof Promise)) {
      this.#queue.push(() => {
        this.#acknowledge(item, committed);
      }, weight);
      return;
    }
    this.#pushCommit(
      item,
      committed,
      (done) => {
        this.#acknowledge(item, done);
      },
      onFailure,
      weight,
    );
  }

  /**
   * [T-BATCH-RECEIPT] Answers a complete batch once each of its files is stored or failed:
   * its RECEIPT, file by file; an item ERROR when the batch failed as a whole.
   */
  committedBatch(
    batch: InboundBatch,
    committed: Promise<CommittedBatch>,
    onFailure: () => void,
  ): void {
    // Its files weigh what they would as items: a file on disk holds an open file.
    const onDisk = batch.filesOnDisk;
    const weight = onDisk * ITEM_WEIGHT + (batch.files.length - onDisk) * LIGHT_WEIGHT;
    this.#pushCommit(
      batch,
      committed,
      (done) => {
        this.#acknowledgeBatch(batch, done);
      },
      onFailure,
      weight,
    );
  }

  /** Queues the answer a commit makes: `acknowledge` once it is done, its item ERROR if it fails. */
  #pushCommit<T>(
    item: InboundItem | InboundBatch,
    committed: Promise<T>,
    acknowledge: (done: T) => void,
    onFailure: () => void,
    weight: number,
  ): void {
    this.#queue.push(
      committed.then(
        (done) => () => {
          acknowledge(done);
        },
        (error: unknown) => {
          onFailure();
          return this.#failureAnswer(item, error);
        },
      ),
      weight,
    );
  }

  /** Answers an item that failed with an item ERROR, in its turn. */
  failed(item: InboundItem | InboundBatch | RefusedItem, cause: unknown): void {
    this.#queue.push(this.#failureAnswer(item, cause));
  }

  /**
   * After every answer before it, sends the connection's ERROR and ends the stream; a
   * peer that does not read gets {@link CLOSE_LINGER_MS} to take it. Reported to the
   * listeners unless `reported` (an item's failure says it already) or SHUTTING_DOWN.
   */
  fatal(error: GbError, reported: boolean): void {
    const channel = this.#channel;
    const message = cutErrorMessage(error.message);
    this.#queue.push(() => {
      if (!reported && error.code !== ErrorCode.SHUTTING_DOWN) {
        channel.context.onFailure({
          ...channel.peer,
          id: undefined,
          name: undefined,
          code: error.code,
          message,
          session: channel.session(),
        });
      }
      const writer = channel.writer();
      if (writer.closed) return;
      writer.writeFrame(FrameType.ERROR, encodeError({ code: error.code, message, id: undefined }));
      writer.end();
      setTimeout(() => {
        channel.destroy();
      }, CLOSE_LINGER_MS).unref();
    });
  }

  /** A clean goodbye: ends the stream once every answer has gone out. */
  end(): void {
    this.#queue.push(() => {
      const writer = this.#channel.writer();
      if (!writer.closed) writer.end();
    });
  }

  /** Sends the receipt of a stored item and reports it to the server's listeners. */
  #acknowledge(item: InboundItem, committed: CommittedItem): void {
    // Its file is committed and its dictionary decoded: this only marks it ended.
    void item.release();
    const writer = this.#channel.writer();
    if (!writer.closed) {
      const text = receiptText({ id: item.id, receipt: committed.receipt });
      writer.writeTextFrame(FrameType.RECEIPT, text);
    }
    // The item is stored and acknowledged whatever a listener does.
    this.#channel.context.onItem(committed.received);
  }

  /**
   * Sends a batch's receipt and reports each of its files to the server's listeners, as
   * stored or as failed, in the batch's order.
   */
  #acknowledgeBatch(batch: InboundBatch, committed: CommittedBatch): void {
    void batch.release();
    const channel = this.#channel;
    const writer = channel.writer();
    if (!writer.closed) writer.writeTextFrame(FrameType.RECEIPT, committed.receiptText);
    for (const outcome of committed.files) {
      if ("stored" in outcome) {
        channel.context.onItem(outcome.stored);
        continue;
      }
      const { name, code, message } = outcome.failed;
      channel.context.onFailure({
        ...channel.peer,
        id: batch.id,
        name,
        code,
        message,
        session: channel.session(),
      });
    }
  }

  /** Reports a failed item and, while the client can hear, sends its item ERROR. */
  #failureAnswer(item: InboundItem | InboundBatch | RefusedItem, cause: unknown): () => void {
    const channel = this.#channel;
    return () => {
      const error = toGbError(cause, "the item failed");
      const message = cutErrorMessage(error.message);
      channel.context.onFailure({
        ...channel.peer,
        id: item.id,
        name: "meta" in item ? item.meta.name : item.name,
        code: error.code,
        message,
        session: channel.session(),
      });
      const writer = channel.writer();
      if (writer.closed) return;
      writer.writeFrame(FrameType.ERROR, encodeError({ code: error.code, message, id: item.id }));
    };
  }
}
