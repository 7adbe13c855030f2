/**
 * Sizes, parameters and domain-separation strings of gb-transfer's cryptography.
 * PROTOCOL.md, section "Encryption". These values are part of the wire format and of the
 * test vectors in test/vectors/crypto-vectors.json: changing any of them is a protocol
 * version change.
 */

/** Bytes in a master key (the secret shared by client and server). */
export const MASTER_KEY_BYTES = 32;

/** Bytes of the random salt chosen per item; every per-item key is derived from it. */
export const ITEM_SALT_BYTES = 16;

/** Bytes in a key id, the public fingerprint of a master key. */
export const KEY_ID_BYTES = 16;

/** Bytes in an AES-256-GCM key. */
export const AES_KEY_BYTES = 32;

/** Bytes in an AES-GCM nonce. */
export const NONCE_BYTES = 12;

/** Bytes in an AES-GCM authentication tag (the full, untruncated tag). */
export const TAG_BYTES = 16;

/** Largest plaintext carried by one chunk of a chunked payload, in bytes (64 KiB). */
export const CHUNK_PLAINTEXT_BYTES = 65_536;

/** Largest sealed chunk (ciphertext then tag), in bytes. */
export const SEALED_CHUNK_MAX_BYTES = CHUNK_PLAINTEXT_BYTES + TAG_BYTES;

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

/** HKDF info for the key id. */
export const KEY_ID_INFO = "gb-transfer/v1 key id";

/** HKDF info for the per-item key of the chunked payload. */
export const PAYLOAD_KEY_INFO = "gb-transfer/v1 payload key";

/** HKDF info for the per-item base nonce of the chunked payload. */
export const PAYLOAD_NONCE_INFO = "gb-transfer/v1 payload nonce";

/** HKDF info for the per-item key that seals the item's metadata. */
export const META_KEY_INFO = "gb-transfer/v1 meta key";

/** HKDF info for the per-item key that seals the server's receipt. */
export const RECEIPT_KEY_INFO = "gb-transfer/v1 receipt key";
