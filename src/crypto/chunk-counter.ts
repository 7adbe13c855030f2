import { createSecretKey, type KeyObject } from "node:crypto";
import { assertByteLength } from "./assert-byte-length.js";
import { writeChunkNonce } from "./chunk-nonce.js";
import { AES_KEY_BYTES, NONCE_BYTES } from "./constants.js";

/**
 * The state a {@link ChunkSealer} and a {@link ChunkOpener} share: the payload key, the
 * base nonce, the position in the stream and whether the final chunk has passed.
 */
export class ChunkCounter {
  readonly key: KeyObject;
  readonly #baseNonce: Buffer;
  // GCM needs a fresh nonce per chunk, so one cipher object per chunk; the nonce buffer
  // is reused because createCipheriv/createDecipheriv copy the IV.
  readonly #nonce = Buffer.alloc(NONCE_BYTES);
  index = 0;
  finished = false;

  /**
   * @param payloadKey the item's payloadKey (32 bytes), from deriveItemKeys.
   * @param baseNonce the item's baseNonce (12 bytes), from deriveItemKeys.
   * @throws {GbError} INTERNAL when a length is wrong (a bug in the caller).
   */
  constructor(payloadKey: Uint8Array, baseNonce: Uint8Array) {
    assertByteLength(payloadKey, AES_KEY_BYTES, "a payload key");
    assertByteLength(baseNonce, NONCE_BYTES, "a base nonce");
    // Copies both, so a caller that later wipes or reuses its buffers cannot affect us.
    this.key = createSecretKey(payloadKey);
    this.#baseNonce = Buffer.from(baseNonce);
  }

  /** The nonce of the current chunk; valid until the next call. */
  nonce(last: boolean): Buffer {
    writeChunkNonce(this.#nonce, this.#baseNonce, this.index, last);
    return this.#nonce;
  }

  /** Moves past the current chunk. */
  advance(last: boolean): void {
    this.index += 1;
    this.finished = last;
  }
}

/** What {@link ChunkSealer} and {@link ChunkOpener} have in common: a counter and its view. */
export abstract class ChunkStream {
  protected readonly counter: ChunkCounter;

  /**
   * @param payloadKey the item's payloadKey (32 bytes), from deriveItemKeys.
   * @param baseNonce the item's baseNonce (12 bytes), from deriveItemKeys.
   * @throws {GbError} INTERNAL when a length is wrong (a bug in the caller).
   */
  constructor(payloadKey: Uint8Array, baseNonce: Uint8Array) {
    this.counter = new ChunkCounter(payloadKey, baseNonce);
  }

  /** True once the final chunk has passed. */
  get finished(): boolean {
    return this.counter.finished;
  }

  /** The number of the next chunk (chunks are numbered from 0). */
  get chunkIndex(): number {
    return this.counter.index;
  }
}
