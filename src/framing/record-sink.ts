import { MAX_RECORD_PLAINTEXT_BYTES } from "../crypto/constants.js";
import type { RecordSealer } from "../crypto/record-sealer.js";
import type { FrameSink } from "./frame-writer.js";

/** Bytes written, not yet sealed, and what to call once they are out. */
interface Pending {
  bytes: Uint8Array;
  readonly callback: (() => void) | undefined;
}

/**
 * A socket that seals what is written to it into records [R-RECORD] on its way to the
 * real one: what a {@link FrameWriter} writes in one turn of the event loop (it corks
 * the sink for the turn) is cut into records of 65519 plaintext bytes and the rest
 * sealed as one last record at uncork, all handed to the socket as one corked batch, so
 * the writer's one writev per turn holds.
 *
 * Written buffers are held by reference until sealed; a full record's worth is sealed as
 * soon as it is there, so at most one record's plaintext waits. A write's callback runs
 * once the record holding its last byte has been handed to the kernel.
 */
export class RecordSink implements FrameSink {
  readonly #socket: FrameSink;
  readonly #sealer: RecordSealer;
  #corked = 0;
  readonly #pending: Pending[] = [];
  #pendingBytes = 0;

  constructor(socket: FrameSink, sealer: RecordSealer) {
    this.#socket = socket;
    this.#sealer = sealer;
  }

  get destroyed(): boolean {
    return this.#socket.destroyed;
  }

  get writableEnded(): boolean {
    return this.#socket.writableEnded;
  }

  /** The most plaintext bytes one record carries: 65519 [R-RECORD]. */
  get recordPlaintextBytes(): number {
    return MAX_RECORD_PLAINTEXT_BYTES;
  }

  /**
   * [R-ALIGN] The next `bytes` bytes written are one frame: when they fit in a record
   * but not in what is left of the one being filled, that one is sealed short now, so
   * the frame is sealed whole, from its own pieces. (A frame that straddles two records
   * costs a third piece to encrypt in each.)
   */
  keepTogether(bytes: number): void {
    if (
      this.#corked > 0 &&
      this.#pendingBytes > 0 &&
      bytes <= MAX_RECORD_PLAINTEXT_BYTES &&
      this.#pendingBytes + bytes > MAX_RECORD_PLAINTEXT_BYTES
    ) {
      this.#sealRecord(this.#pendingBytes);
    }
  }

  /** True when the socket's buffer is full; the few bytes not yet sealed do not count. */
  get writableNeedDrain(): boolean {
    return this.#socket.writableNeedDrain;
  }

  write(chunk: Uint8Array, callback?: (error?: Error | null) => void): boolean {
    if (chunk.length > 0 || callback !== undefined) {
      this.#pending.push({
        bytes: chunk,
        callback:
          callback === undefined
            ? undefined
            : () => {
                callback();
              },
      });
      this.#pendingBytes += chunk.length;
    }
    if (this.#corked === 0) this.#sealAll();
    else {
      while (this.#pendingBytes >= MAX_RECORD_PLAINTEXT_BYTES) {
        this.#sealRecord(MAX_RECORD_PLAINTEXT_BYTES);
      }
    }
    return !this.#socket.writableNeedDrain;
  }

  /** Holds writes back, and the socket's too, so the turn's records leave as one batch. */
  cork(): void {
    if (this.#corked++ === 0) this.#socket.cork();
  }

  uncork(): void {
    if (this.#corked === 0) return;
    this.#corked--;
    if (this.#corked > 0) return;
    this.#sealAll();
    this.#socket.uncork();
  }

  end(): void {
    this.#sealAll();
    this.#socket.end();
  }

  on(event: "drain" | "close", listener: () => void): this {
    this.#socket.on(event, listener);
    return this;
  }

  off(event: "drain" | "close", listener: () => void): this {
    this.#socket.off(event, listener);
    return this;
  }

  /** Seals everything written so far, the last record short, as one batch to the socket. */
  #sealAll(): void {
    if (this.#pending.length === 0) return;
    this.#socket.cork();
    try {
      while (this.#pendingBytes > 0) {
        this.#sealRecord(Math.min(this.#pendingBytes, MAX_RECORD_PLAINTEXT_BYTES));
      }
      // Callbacks of empty writes with nothing left to seal: their bytes (none) are out.
      const left = this.#pending.splice(0);
      if (left.length > 0) {
        process.nextTick(() => {
          for (const entry of left) entry.callback?.();
        });
      }
    } finally {
      this.#socket.uncork();
    }
  }

  /** Seals the first `bytes` pending bytes as one record and writes it. */
  #sealRecord(bytes: number): void {
    const pieces: Uint8Array[] = [];
    const callbacks: (() => void)[] = [];
    let remaining = bytes;
    while (remaining > 0) {
      const entry = this.#pending[0];
      if (entry === undefined) break;
      if (entry.bytes.length <= remaining) {
        this.#pending.shift();
        if (entry.bytes.length > 0) pieces.push(entry.bytes);
        remaining -= entry.bytes.length;
        if (entry.callback !== undefined) callbacks.push(entry.callback);
      } else {
        pieces.push(entry.bytes.subarray(0, remaining));
        entry.bytes = entry.bytes.subarray(remaining);
        remaining = 0;
      }
    }
    // Empty writes that came right after the record's last byte belong to it too.
    while (this.#pending[0]?.bytes.length === 0) {
      const callback = this.#pending.shift()?.callback;
      if (callback !== undefined) callbacks.push(callback);
    }
    this.#pendingBytes -= bytes;
    const record = this.#sealer.seal(pieces, bytes);
    const last = record.length - 1;
    for (const [index, buffer] of record.entries()) {
      if (index === last && callbacks.length > 0) {
        this.#socket.write(buffer, () => {
          for (const callback of callbacks) callback();
        });
      } else this.#socket.write(buffer);
    }
  }
}
