/**
 * The Noise Protocol Framework (revision 34, https://noiseprotocol.org/noise.html) with
 * the cipher suite `25519_AESGCM_SHA256`: the CipherState, SymmetricState and
 * HandshakeState objects of §5, the handshake patterns of §7 and §18.1, and the `psk`
 * modifiers of §9.
 */
export { CipherState, type SealedPieces } from "./cipher-state.js";
export * from "./constants.js";
export { dh, generateKeyPair, keyPairFromPrivateKey, type KeyPair } from "./dh-25519.js";
export {
  BASE_PATTERN_NAMES,
  handshakePattern,
  type HandshakePattern,
  type PreMessageToken,
  type Token,
} from "./handshake-pattern.js";
export { HandshakeState, type HandshakeOptions, type HandshakeResult } from "./handshake-state.js";
export { hkdf } from "./hkdf.js";
export { patternNameOf, protocolName } from "./protocol-name.js";
export { SymmetricState } from "./symmetric-state.js";
