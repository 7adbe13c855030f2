/**
 * What the end-to-end resume tests share: a large source file written fast, the SHA-256
 * of a file, and counting relays closed after each test.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import { afterEach } from "vitest";
import { startCountingRelay, type CountingRelay } from "../support/counting-relay.js";

const MiB = 1024 * 1024;

/**
 * Writes `bytes` (whole MiB) to `file` fast: one random MiB repeated, each copy with its
 * index in its first 8 bytes, so that no two MiB are alike. Returns its SHA-256 (hex).
 */
export async function writeDistinctMiBs(file: string, bytes: number): Promise<string> {
  const block = randomBytes(MiB);
  const hash = createHash("sha256");
  const handle = await open(file, "w");
  try {
    for (let index = 0; index < bytes / MiB; index++) {
      block.writeBigUInt64BE(BigInt(index), 0);
      hash.update(block);
      await handle.write(block);
    }
  } finally {
    await handle.close();
  }
  return hash.digest("hex");
}

/** The SHA-256 (hex) of the file at `file`, read as a stream. */
export async function fileSha256(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const piece of createReadStream(file)) hash.update(piece as Buffer);
  return hash.digest("hex");
}

/**
 * Counting relays to a port, each closed after the test that started it. Call at the top
 * level of a test file.
 */
export function useCountingRelays(): (port: number) => Promise<CountingRelay> {
  const relays: CountingRelay[] = [];
  afterEach(async () => {
    await Promise.all(relays.map((relay) => relay.close()));
    relays.length = 0;
  });
  return async (port) => {
    const relay = await startCountingRelay(port);
    relays.push(relay);
    return relay;
  };
}
