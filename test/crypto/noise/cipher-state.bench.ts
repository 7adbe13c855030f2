/**
 * The transport CipherState on full-size messages: 65519 bytes of plaintext (a 65535-byte
 * Noise message), given as a 9-byte record header and 65510 bytes of data, as a record
 * layer would have them. Run with `npx vitest bench --run test/crypto/noise`.
 *
 * The baseline is one AES-256-GCM pass through node:crypto with nothing around it; the
 * ways of the CipherState differ in what they do with the pieces and the result. On a
 * loaded machine compare ratios to the baseline of the same run, not absolute rates.
 */
import { createCipheriv, randomBytes } from "node:crypto";
import { bench, describe } from "vitest";
import { CipherState } from "../../../src/crypto/noise/cipher-state.js";
import { MAX_TRANSPORT_PLAINTEXT_BYTES } from "../../../src/crypto/noise/constants.js";

/** The process's CPU time (all its threads, the garbage collector's too), in ms. */
function cpuNowMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/**
 * CPU time, not wall time: on a machine shared with other work, wall time mostly
 * measures the scheduler. Long runs, because most of the cost beyond AES is allocating
 * 64 KiB buffers, paid in the garbage collector's pauses, which a short run would miss
 * or over-weight.
 */
const OPTIONS = { time: 3_000, warmupTime: 500, now: cpuNowMs };
const HEADER_BYTES = 9;
/**
 * Messages decrypted in turn, the receiver starting over after the last: few, because
 * megabytes of live buffers would make the garbage collector run more often for every
 * case of this file.
 */
const DECRYPT_CYCLE = 32;
const NO_AD = new Uint8Array(0);
const key = randomBytes(32);
const header = randomBytes(HEADER_BYTES);
const data = randomBytes(MAX_TRANSPORT_PLAINTEXT_BYTES - HEADER_BYTES);
const contiguous = Buffer.concat([header, data]);
const pieces = [header, data];
const output = Buffer.alloc(MAX_TRANSPORT_PLAINTEXT_BYTES + 16);
const baselineNonce = Buffer.alloc(12);

function keyed(): CipherState {
  const state = new CipherState();
  state.initializeKey(key);
  return state;
}

const whole = keyed();
const wholeContiguous = keyed();
const inPieces = keyed();
const into = keyed();
let baselineCounter = 0;
let sink = 0;

describe("encrypt one 65535-byte Noise transport message", () => {
  bench(
    "baseline: node:crypto AES-256-GCM of contiguous bytes, nothing joined",
    () => {
      baselineNonce.writeUInt32BE(baselineCounter++ >>> 0, 8);
      const cipher = createCipheriv("aes-256-gcm", key, baselineNonce, { authTagLength: 16 });
      sink ^= cipher.update(contiguous).length;
      cipher.final();
      sink ^= cipher.getAuthTag().length;
    },
    OPTIONS,
  );

  bench(
    "encryptWithAd: pieces joined first, result joined (ciphertext || tag)",
    () => {
      sink ^= whole.encryptWithAd(NO_AD, Buffer.concat(pieces)).length;
    },
    OPTIONS,
  );

  bench(
    "encryptWithAd: contiguous plaintext, result joined (ciphertext || tag)",
    () => {
      sink ^= wholeContiguous.encryptWithAd(NO_AD, contiguous).length;
    },
    OPTIONS,
  );

  bench(
    "encryptPiecesWithAd: ciphertext pieces and tag, nothing joined",
    () => {
      const { ciphertext, tag } = inPieces.encryptPiecesWithAd(NO_AD, pieces);
      sink ^= ciphertext.length ^ tag.length;
    },
    OPTIONS,
  );

  bench(
    "encryptWithAdInto: written into the caller's reused buffer",
    () => {
      sink ^= into.encryptWithAdInto(NO_AD, pieces, output, 0);
    },
    OPTIONS,
  );
});

describe("decrypt one 65535-byte Noise transport message", () => {
  const sender = keyed();
  const messages = Array.from({ length: DECRYPT_CYCLE }, () =>
    sender.encryptWithAd(NO_AD, contiguous),
  );
  let receiver = keyed();
  let next = 0;
  bench(
    "decryptWithAd",
    () => {
      if (next === messages.length) {
        receiver = keyed();
        next = 0;
      }
      sink ^= receiver.decryptWithAd(NO_AD, messages[next++]!).length;
    },
    OPTIONS,
  );
});

export { sink };
