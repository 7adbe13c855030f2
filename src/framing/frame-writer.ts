import type { Socket } from "node:net";
import { ErrorCode, NetworkError } from "../errors.js";
import { encodeFrameHeader } from "./frame.js";
import { encodePreamble } from "./preamble.js";

/**
 * Writes preambles and frames to a socket. Everything written in one turn of the event
 * loop (a frame's header and payload parts, the chunks cut from one read of a file, the
 * receipts for a burst of pipelined items) goes out in one corked batch, a single
 * writev, without concatenating payloads.
 */
export class FrameWriter {
  readonly #socket: Socket;
  #corked = false;
  readonly #flushLater = (): void => {
    this.flush();
  };

  constructor(socket: Socket) {
    this.#socket = socket;
  }

  /** True once the socket can no longer be written to. */
  get closed(): boolean {
    return this.#socket.destroyed || this.#socket.writableEnded;
  }

  writePreamble(version: number): boolean {
    this.#batch();
    return this.#socket.write(encodePreamble(version));
  }

  /**
   * Writes one frame whose payload is the concatenation of `parts`.
   * @returns false when the socket's buffer is full: await {@link drain} before writing more.
   */
  writeFrame(type: number, ...parts: readonly Uint8Array[]): boolean {
    let length = 0;
    for (const part of parts) length += part.length;
    const socket = this.#socket;
    this.#batch();
    let ok = socket.write(encodeFrameHeader(type, length));
    for (const part of parts) if (part.length > 0) ok = socket.write(part);
    return ok;
  }

  /** Sends what this turn of the event loop has written so far, now. */
  flush(): void {
    if (!this.#corked) return;
    this.#corked = false;
    this.#socket.uncork();
  }

  /** Holds writes back until the end of this turn of the event loop (or {@link flush}). */
  #batch(): void {
    if (this.#corked) return;
    this.#corked = true;
    this.#socket.cork();
    setImmediate(this.#flushLater);
  }

  /**
   * Sends anything held back, then resolves when the socket's write buffer has drained.
   * @throws {NetworkError} CONNECTION_LOST when the socket closes first.
   */
  async drain(): Promise<void> {
    this.flush();
    const socket = this.#socket;
    if (!socket.writableNeedDrain) return;
    const lost = (): NetworkError =>
      new NetworkError(ErrorCode.CONNECTION_LOST, "the connection closed while sending");
    if (socket.destroyed) throw lost();
    // Plain listeners: this runs once per MiB of a large file, and an AbortController
    // per wait would cost an exception object each time.
    await new Promise<void>((resolve, reject) => {
      const settle = (): void => {
        socket.off("drain", onDrain);
        socket.off("close", onClose);
      };
      const onDrain = (): void => {
        settle();
        resolve();
      };
      const onClose = (): void => {
        settle();
        reject(lost());
      };
      socket.on("drain", onDrain);
      socket.on("close", onClose);
    });
  }
}
