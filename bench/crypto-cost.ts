/**
 * What one pass of gb's per-byte cryptography costs on this machine, measured in the
 * benchmark's own process: the CPU seconds (user + system) that SHA-256 (every item's
 * receipt) and AES-256-GCM sealing (an encrypted item) spend on a given number of bytes,
 * fed as gb feeds them, in 64 KiB chunks with one cipher per chunk.
 */
import { createCipheriv, createHash, randomBytes } from "node:crypto";

/** gb's chunk size (the protocol's plaintext chunk, [F-CHUNK]; a test checks they agree). */
export const CHUNK_BYTES = 64 * 1024;

/** The random bytes the chunks are cut from, over and over. */
const SOURCE_BYTES = 16 * 1024 * 1024;

/**
 * An untimed first pass, of at most this many bytes: the first thousand ciphers cost
 * more (set-up, and code compiled on other threads of this process, whose CPU time
 * counts here).
 */
const WARM_UP_BYTES = 64 * 1024 * 1024;

export type CryptoPass = "sha256" | "aes-256-gcm";

/** CPU seconds of one `pass` over `bytes` bytes, after an untimed warm-up pass. */
export function cryptoPassSeconds(pass: CryptoPass, bytes: number): number {
  timedPass(pass, Math.min(bytes, WARM_UP_BYTES));
  return timedPass(pass, bytes);
}

/** Calls `visit` with consecutive chunks of `source`, wrapping around, `bytes` bytes in all. */
export function forEachChunk(source: Buffer, bytes: number, visit: (chunk: Buffer) => void): void {
  if (source.length === 0 && bytes > 0) throw new RangeError("no source bytes to cut chunks from");
  for (let done = 0; done < bytes;) {
    for (let offset = 0; offset < source.length && done < bytes; offset += CHUNK_BYTES) {
      const chunk = source.subarray(offset, offset + Math.min(CHUNK_BYTES, bytes - done));
      visit(chunk);
      done += chunk.length;
    }
  }
}

/** The CPU seconds `work` takes, this process's threads included. */
function cpuSecondsOf(work: () => void): number {
  const start = process.cpuUsage();
  work();
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
}

/** One timed pass; the random source is made before the clock starts. */
function timedPass(pass: CryptoPass, bytes: number): number {
  const source = randomBytes(Math.min(SOURCE_BYTES, bytes));
  if (pass === "sha256") {
    return cpuSecondsOf(() => {
      const hash = createHash("sha256");
      forEachChunk(source, bytes, (chunk) => hash.update(chunk));
      hash.digest();
    });
  }
  const key = randomBytes(32);
  const nonce = Buffer.alloc(12);
  let counter = 0;
  return cpuSecondsOf(() => {
    forEachChunk(source, bytes, (chunk) => {
      nonce.writeUInt32BE(counter++ >>> 0, 8);
      const cipher = createCipheriv("aes-256-gcm", key, nonce, { authTagLength: 16 });
      cipher.update(chunk);
      cipher.final();
      cipher.getAuthTag();
    });
  });
}
