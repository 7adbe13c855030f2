/**
 * Sizes, parameters and domain-separation strings of gb-transfer's cryptography.
 * PROTOCOL.md, "The handshake" and "Records". These values are part of the wire format
 * and of the test vectors in test/vectors/session-vectors.json: changing any of them is
 * a protocol version change.
 */
import { MAX_MESSAGE_BYTES, TAG_BYTES } from "./noise/constants.js";

/** Bytes in a master key (the secret shared by client and server, the session's PSK). */
export const MASTER_KEY_BYTES = 32;

/** Bytes of salt for deriving a master key from a passphrase. */
export const SCRYPT_SALT_BYTES = 16;

/** scrypt cost: N = 2^17 (about 0.3 s and 128 MiB per derivation on a laptop). */
export const SCRYPT_LOG2_N = 17;

/** scrypt block size parameter r. */
export const SCRYPT_R = 8;

/** scrypt parallelisation parameter p. */
export const SCRYPT_P = 1;

/**
 * Memory cap handed to scrypt, in bytes. scrypt needs 128 * N * r = 128 MiB with the
 * parameters above, and Node's default cap (32 MiB) would refuse it.
 */
export const SCRYPT_MAXMEM_BYTES = 256 * 1024 * 1024;

/** The Noise handshake pattern of every encrypted session [H-PATTERN]. */
export const SESSION_PATTERN = "NNpsk0";

/**
 * Bytes in each handshake message of {@link SESSION_PATTERN} with its empty payload: an
 * ephemeral public key, then the tag of the empty payload [H-MESSAGES].
 */
export const HANDSHAKE_MESSAGE_BYTES = 48;

/** HKDF info of the session fingerprint [H-FINGERPRINT]. */
export const SESSION_FINGERPRINT_INFO = "gb-transfer/2 session fingerprint";

/** Bytes of HKDF output shown as the session fingerprint [H-FINGERPRINT]. */
export const SESSION_FINGERPRINT_BYTES = 8;

/** Bytes in a record's length header (u16, big-endian) [R-RECORD]. */
export const RECORD_HEADER_BYTES = 2;

/** The longest record ciphertext: a whole Noise transport message [R-RECORD]. */
export const MAX_RECORD_CIPHERTEXT_BYTES = MAX_MESSAGE_BYTES;

/** The shortest record ciphertext: one plaintext byte and the tag (no empty records) [R-RECORD]. */
export const MIN_RECORD_CIPHERTEXT_BYTES = TAG_BYTES + 1;

/** The most plaintext one record carries: 65519 bytes [R-RECORD]. */
export const MAX_RECORD_PLAINTEXT_BYTES = MAX_RECORD_CIPHERTEXT_BYTES - TAG_BYTES;
