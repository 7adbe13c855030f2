import { createHash } from "node:crypto";
import { CipherState } from "./cipher-state.js";
import { CIPHER_KEY_BYTES, HASH_BYTES } from "./constants.js";
import { hkdf } from "./hkdf.js";

const HASH_ALGORITHM = "sha256";

/** HASH(data) of `SHA256` (§12.5) over consecutive pieces. */
function hash(...pieces: Uint8Array[]): Buffer {
  const digest = createHash(HASH_ALGORITHM);
  for (const piece of pieces) digest.update(piece);
  return digest.digest();
}

/**
 * The SymmetricState object of §5.2 with `SHA256` (HASHLEN 32, BLOCKLEN 64): a
 * CipherState, the chaining key `ck` and the handshake hash `h`. Every public key, every
 * ciphertext and the prologue pass through `h`, so the two parties end with the same
 * keys only if they saw the same transcript.
 */
export class SymmetricState {
  readonly cipherState = new CipherState();
  #ck: Buffer;
  #h: Buffer;

  /**
   * InitializeSymmetric(protocol_name): `h` is the name zero-padded to HASHLEN, or its
   * hash when longer; `ck = h`; the key is empty.
   */
  constructor(protocolName: Uint8Array) {
    if (protocolName.length <= HASH_BYTES) {
      this.#h = Buffer.alloc(HASH_BYTES);
      this.#h.set(protocolName);
    } else {
      this.#h = hash(protocolName);
    }
    this.#ck = Buffer.from(this.#h);
    this.cipherState.initializeKey(undefined);
  }

  /** MixKey(input_key_material): `ck, temp_k = HKDF(ck, ikm, 2)`, then InitializeKey(temp_k). */
  mixKey(inputKeyMaterial: Uint8Array): void {
    const [ck, tempK] = hkdf(this.#ck, inputKeyMaterial, 2);
    this.#ck = ck;
    this.cipherState.initializeKey(tempK.subarray(0, CIPHER_KEY_BYTES));
  }

  /** MixHash(data): `h = HASH(h || data)`. */
  mixHash(data: Uint8Array): void {
    this.#h = hash(this.#h, data);
  }

  /**
   * MixKeyAndHash(input_key_material), for PSKs (§9.1): `ck, temp_h, temp_k =
   * HKDF(ck, ikm, 3)`, MixHash(temp_h), InitializeKey(temp_k).
   */
  mixKeyAndHash(inputKeyMaterial: Uint8Array): void {
    const [ck, tempH, tempK] = hkdf(this.#ck, inputKeyMaterial, 3);
    this.#ck = ck;
    this.mixHash(tempH);
    this.cipherState.initializeKey(tempK.subarray(0, CIPHER_KEY_BYTES));
  }

  /** GetHandshakeHash(): a copy of `h`; meaningful once the handshake has split (§11.2). */
  getHandshakeHash(): Buffer {
    return Buffer.from(this.#h);
  }

  /** HasKey() of the CipherState. */
  hasKey(): boolean {
    return this.cipherState.hasKey();
  }

  /**
   * EncryptAndHash(plaintext): `ciphertext = EncryptWithAd(h, plaintext)`, then
   * MixHash(ciphertext). Without a key the "ciphertext" is the plaintext.
   * @throws {InternalError} INTERNAL as {@link CipherState.encryptWithAd}.
   */
  encryptAndHash(plaintext: Uint8Array): Buffer {
    const ciphertext = this.cipherState.encryptWithAd(this.#h, plaintext);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  /**
   * DecryptAndHash(ciphertext): `plaintext = DecryptWithAd(h, ciphertext)`, then
   * MixHash(ciphertext).
   * @throws {CryptoError} DECRYPT_FAILED when authentication fails; `h` is unchanged.
   */
  decryptAndHash(ciphertext: Uint8Array): Buffer {
    const plaintext = this.cipherState.decryptWithAd(this.#h, ciphertext);
    this.mixHash(ciphertext);
    return plaintext;
  }

  /**
   * Split(): `temp_k1, temp_k2 = HKDF(ck, zerolen, 2)`; two new CipherStates keyed with
   * them [N-SPLIT]: the first encrypts from initiator to responder, the second from
   * responder to initiator.
   */
  split(): [initiatorToResponder: CipherState, responderToInitiator: CipherState] {
    const [tempK1, tempK2] = hkdf(this.#ck, Buffer.alloc(0), 2);
    const c1 = new CipherState();
    const c2 = new CipherState();
    c1.initializeKey(tempK1.subarray(0, CIPHER_KEY_BYTES));
    c2.initializeKey(tempK2.subarray(0, CIPHER_KEY_BYTES));
    return [c1, c2];
  }
}
