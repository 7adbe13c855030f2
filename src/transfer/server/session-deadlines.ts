import { ErrorCode, NetworkError } from "../../errors.js";

/** The deadlines of one connection [S-TIMEOUT], in ms and bytes. */
export interface DeadlineSettings {
  /** How long the opening (preamble, then a handshake or a first ITEM) may take. */
  readonly openingTimeoutMs: number;
  /** The window over which an item's (or a frame's) progress is measured. */
  readonly progressWindowMs: number;
  /** Bytes that must arrive in every window while an item or a frame is in progress. */
  readonly minProgressBytes: number;
}

/** What the deadlines need to know of their session, when they check. */
export interface DeadlineSubject {
  /** True while the client is in the middle of an item, a frame or a record. */
  inProgress(): boolean;
  /** True while the server itself waits (disk, a worker, receipts the client must read). */
  serverWaiting(): boolean;
  /** Ends the connection with `error`. */
  fail(error: NetworkError): void;
}

/**
 * [S-TIMEOUT] The deadlines of one connection besides its idle timeout, which measures
 * silence only, so that a peer sending a byte now and then cannot hold a connection slot,
 * a partial file and its descriptor for ever:
 *
 * - the opening: the preamble and then the handshake (or, in the clear, the first ITEM)
 *   must be in within `openingTimeoutMs`, as an HTTP server bounds the time to receive a
 *   request's headers;
 * - progress: while an item, a frame or a record is in progress, every window of
 *   `progressWindowMs` must bring at least `minProgressBytes`. A window is judged only
 *   when the connection was in progress for all of it and the server never waited on its
 *   own account meanwhile: a slow disk, a dictionary being decoded or a client that does
 *   not read its receipts is not the sender being slow.
 */
export class SessionDeadlines {
  readonly #settings: DeadlineSettings;
  readonly #subject: DeadlineSubject;
  #openingTimer: NodeJS.Timeout | undefined;
  readonly #progressTimer: NodeJS.Timeout;
  #windowBytes = 0;
  /** The window may be judged: in progress since it began, and the server never waited. */
  #windowJudged = false;

  constructor(settings: DeadlineSettings, subject: DeadlineSubject) {
    this.#settings = settings;
    this.#subject = subject;
    this.#openingTimer = setTimeout(() => {
      this.#openingTimer = undefined;
      subject.fail(
        new NetworkError(
          ErrorCode.TIMEOUT,
          `the connection did not open (preamble, then a handshake or an item) within ${settings.openingTimeoutMs / 1000} s`,
        ),
      );
    }, settings.openingTimeoutMs);
    this.#openingTimer.unref();
    this.#progressTimer = setInterval(() => {
      this.#judgeWindow();
    }, settings.progressWindowMs);
    this.#progressTimer.unref();
  }

  /** The connection has opened: a handshake succeeded, or the first ITEM came. */
  opened(): void {
    clearTimeout(this.#openingTimer);
    this.#openingTimer = undefined;
  }

  /** Bytes arrived from the client. */
  received(bytes: number): void {
    this.#windowBytes += bytes;
  }

  /** The server waits on its own account: the current window is not the sender's to answer for. */
  serverWaited(): void {
    this.#windowJudged = false;
  }

  /** The connection is over: no deadline applies any more. */
  stop(): void {
    clearTimeout(this.#openingTimer);
    this.#openingTimer = undefined;
    clearInterval(this.#progressTimer);
  }

  #judgeWindow(): void {
    const subject = this.#subject;
    const bytes = this.#windowBytes;
    const now = subject.inProgress() && !subject.serverWaiting();
    const judged = this.#windowJudged && now;
    this.#windowBytes = 0;
    this.#windowJudged = now;
    if (judged && bytes < this.#settings.minProgressBytes) {
      const { progressWindowMs, minProgressBytes } = this.#settings;
      subject.fail(
        new NetworkError(
          ErrorCode.TIMEOUT,
          `the client sent ${bytes} bytes in ${progressWindowMs / 1000} s in the middle of an item; at least ${minProgressBytes} are needed`,
        ),
      );
    }
  }
}
