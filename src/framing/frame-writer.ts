import { once } from "node:events";
import type { Socket } from "node:net";
import { ErrorCode, NetworkError } from "../errors.js";
import { encodeFrameHeader } from "./frame.js";
import { encodePreamble } from "./preamble.js";

/**
 * Writes preambles and frames to a socket. Header and payload parts go out in one
 * corked batch (a single writev) without concatenating the payload.
 */
export class FrameWriter {
  readonly #socket: Socket;
  #holding = false;

  constructor(socket: Socket) {
    this.#socket = socket;
  }

  /** True once the socket can no longer be written to. */
  get closed(): boolean {
    return this.#socket.destroyed || this.#socket.writableEnded;
  }

  writePreamble(version: number): boolean {
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
    socket.cork();
    let ok = socket.write(encodeFrameHeader(type, length));
    for (const part of parts) if (part.length > 0) ok = socket.write(part);
    socket.uncork();
    return ok;
  }

  /**
   * Holds frames back until {@link flush} (or {@link drain}), so that the frames of a
   * batch leave in one writev instead of one system call each.
   */
  hold(): void {
    if (this.#holding) return;
    this.#holding = true;
    this.#socket.cork();
  }

  /** Sends whatever {@link hold} held back. */
  flush(): void {
    if (!this.#holding) return;
    this.#holding = false;
    this.#socket.uncork();
  }

  /**
   * Sends anything held back, then resolves when the socket's write buffer has drained.
   * @throws {NetworkError} CONNECTION_LOST when the socket closes first.
   */
  async drain(): Promise<void> {
    this.flush();
    const socket = this.#socket;
    if (!socket.writableNeedDrain) return;
    const ac = new AbortController();
    try {
      await Promise.race([
        once(socket, "drain", { signal: ac.signal }),
        once(socket, "close", { signal: ac.signal }).then(() => {
          throw new NetworkError(ErrorCode.CONNECTION_LOST, "the connection closed while sending");
        }),
      ]);
    } finally {
      ac.abort();
    }
  }
}
