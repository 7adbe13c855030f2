import {
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
  type KeyObject,
} from "node:crypto";
import { CryptoError, ErrorCode, InternalError } from "../../errors.js";
import { assertByteLength } from "../assert-byte-length.js";
import { DH_BYTES } from "./constants.js";

/**
 * DER prefixes that turn 32 raw X25519 key bytes into the PKCS#8 and SPKI encodings
 * node:crypto imports (RFC 8410: the algorithm identifier 1.3.101.110, then the key).
 */
const PKCS8_X25519_PREFIX = Buffer.from("302e020100300506032b656e04220420", "hex");
const SPKI_X25519_PREFIX = Buffer.from("302a300506032b656e032100", "hex");

/** OpenSSL's error when an X25519 output is all zeros (the peer's key has low order). */
const ALL_ZERO_OUTPUT_ERROR = "ERR_OSSL_FAILED_DURING_DERIVATION";

/** A DH key pair of the `25519` functions (§4.1, §12.1). */
export interface KeyPair {
  /** The public key, DHLEN (32) raw bytes as they travel in Noise messages. */
  readonly publicKey: Buffer;
  /** The private key, kept as a KeyObject so DH does not re-parse it. */
  readonly privateKey: KeyObject;
}

/** GENERATE_KEYPAIR() of the `25519` DH functions (§4.1, §12.1): a fresh random pair. */
export function generateKeyPair(): KeyPair {
  const { privateKey, publicKey } = generateKeyPairSync("x25519");
  return { privateKey, publicKey: rawPublicKey(publicKey) };
}

/**
 * The key pair of a known 32-byte X25519 private key: a static key loaded from storage,
 * or a fixed key of a known-answer test.
 * @throws {InternalError} INTERNAL when `privateKey` is not 32 bytes (a bug in the caller).
 */
export function keyPairFromPrivateKey(privateKey: Uint8Array): KeyPair {
  assertByteLength(privateKey, DH_BYTES, "an X25519 private key");
  const keyObject = createPrivateKey({
    key: Buffer.concat([PKCS8_X25519_PREFIX, privateKey]),
    format: "der",
    type: "pkcs8",
  });
  return { privateKey: keyObject, publicKey: rawPublicKey(createPublicKey(keyObject)) };
}

/**
 * DH(key_pair, public_key) of the `25519` functions (§4.1, §12.1): X25519 of our private
 * key and the peer's 32-byte public key.
 *
 * [N-DH-ZERO] A public key of low order makes the output all zeros. §12.1 allows an
 * implementation to signal an error instead of returning the zeros, and OpenSSL does:
 * that becomes a failed handshake, as §5 prescribes for any DH() error.
 *
 * @throws {CryptoError} DECRYPT_FAILED when the output would be all zeros.
 * @throws {InternalError} INTERNAL when `publicKey` is not 32 bytes, or on any other
 *   failure of the DH computation.
 */
export function dh(keyPair: KeyPair, publicKey: Uint8Array): Buffer {
  assertByteLength(publicKey, DH_BYTES, "an X25519 public key");
  const peer = createPublicKey({
    key: Buffer.concat([SPKI_X25519_PREFIX, publicKey]),
    format: "der",
    type: "spki",
  });
  try {
    return diffieHellman({ privateKey: keyPair.privateKey, publicKey: peer });
  } catch (error) {
    if (error instanceof Error && "code" in error && error.code === ALL_ZERO_OUTPUT_ERROR) {
      throw new CryptoError(
        ErrorCode.DECRYPT_FAILED,
        "the peer's X25519 public key is invalid (a low-order point)",
        { cause: error },
      );
    }
    throw new InternalError(ErrorCode.INTERNAL, "X25519 failed", { cause: error });
  }
}

function rawPublicKey(publicKey: KeyObject): Buffer {
  const spki = publicKey.export({ format: "der", type: "spki" });
  return Buffer.from(spki.subarray(SPKI_X25519_PREFIX.length));
}
