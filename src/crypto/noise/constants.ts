/**
 * Sizes of the one Noise cipher suite gb-transfer implements, `25519_AESGCM_SHA256`
 * (the Noise Protocol Framework, revision 34: sections 3, 5.1 and 12).
 */

/** The DH, cipher and hash name sections of every protocol name we run [N-SUITE]. */
export const NOISE_SUITE = "25519_AESGCM_SHA256";

/** DHLEN of the `25519` DH functions: bytes in a public key and in a DH output (§12.1). */
export const DH_BYTES = 32;

/** HASHLEN of `SHA256`: bytes in a hash output, `h` and `ck` (§12.5). */
export const HASH_BYTES = 32;

/**
 * BLOCKLEN of `SHA256` (§12.5): the HMAC block size. Node's HMAC applies it itself; it
 * is named here because the spec defines HMAC-HASH in terms of it (§4.3).
 */
export const HASH_BLOCK_BYTES = 64;

/** Bytes in a cipher key `k` (§4.2). */
export const CIPHER_KEY_BYTES = 32;

/** Bytes of authentication data an AEAD ciphertext adds: the AES-GCM tag (§4.2, §12.4). */
export const TAG_BYTES = 16;

/** Bytes in the 96-bit AES-GCM nonce built from `n` (§12.4). */
export const NONCE_BYTES = 12;

/** Where the 64-bit big-endian `n` starts in the nonce, after 32 zero bits (§12.4). */
export const NONCE_COUNTER_OFFSET = 4;

/** Bytes in a pre-shared key (§9). */
export const PSK_BYTES = 32;

/** The largest Noise message, handshake or transport, in bytes [N-MSG-MAX] (§3). */
export const MAX_MESSAGE_BYTES = 65_535;

/** The largest plaintext of one transport message, in bytes: the message less its tag. */
export const MAX_TRANSPORT_PLAINTEXT_BYTES = MAX_MESSAGE_BYTES - TAG_BYTES;

/**
 * 2^64 − 1: the nonce value reserved for REKEY (§4.2); no message is ever sent or
 * received under it [N-NONCE-MAX] (§5.1).
 */
export const RESERVED_NONCE = 2n ** 64n - 1n;
