import { CryptoError, ErrorCode, GbError, InternalError } from "../../errors.js";
import { assertByteLength } from "../assert-byte-length.js";
import type { CipherState } from "./cipher-state.js";
import { DH_BYTES, MAX_MESSAGE_BYTES, PSK_BYTES, TAG_BYTES } from "./constants.js";
import { dh, generateKeyPair, type KeyPair } from "./dh-25519.js";
import {
  handshakePattern,
  type HandshakePattern,
  type PreMessageToken,
  type Token,
} from "./handshake-pattern.js";
import { protocolName } from "./protocol-name.js";
import { SymmetricState } from "./symmetric-state.js";

/** The arguments of Initialize() (§5.3). Keys not in the pattern stay empty. */
export interface HandshakeOptions {
  /** The handshake pattern name section (§8.1), e.g. `NNpsk0`; see handshakePattern. */
  readonly pattern: string;
  /** True for the initiator, who sends the first message. */
  readonly initiator: boolean;
  /** Context both parties must agree on (§6); zero-length when absent. */
  readonly prologue?: Uint8Array;
  /** Our static key pair, when the pattern sends it or uses it. */
  readonly s?: KeyPair;
  /**
   * Our ephemeral key pair, normally left out: the `e` token then generates a fresh
   * one. Supplied only for a pre-message `e` or a known-answer test; an ephemeral key
   * must never be used twice (§14), so never pass the same pair to two handshakes.
   */
  readonly e?: KeyPair;
  /** The peer's static public key (32 bytes), when our pre-knowledge of it is in the pattern. */
  readonly rs?: Uint8Array;
  /** The peer's ephemeral public key (32 bytes), when a pre-message of the pattern has it. */
  readonly re?: Uint8Array;
  /** The 32-byte pre-shared keys, one per `psk` token, in the order the tokens occur (§9). */
  readonly psks?: readonly Uint8Array[];
}

/** What a completed handshake yields: Split()'s CipherStates and the handshake hash. */
export interface HandshakeResult {
  /** The first CipherState of Split(): encrypts from initiator to responder. */
  readonly initiatorToResponder: CipherState;
  /**
   * The second CipherState of Split(): encrypts from responder to initiator. After a
   * one-way pattern (§7.4) it must not be used.
   */
  readonly responderToInitiator: CipherState;
  /** The one of the two this party encrypts with. */
  readonly send: CipherState;
  /** The one of the two this party decrypts with. */
  readonly receive: CipherState;
  /** `h` at the end of the handshake: a unique id of the session for channel binding (§11.2). */
  readonly handshakeHash: Buffer;
}

const EMPTY = new Uint8Array(0);

/**
 * The HandshakeState object of §5.3: runs one handshake of a pattern (see
 * handshakePattern) with `25519_AESGCM_SHA256`, message by message, then hands over the
 * transport CipherStates. The parties alternate: the initiator writes the first message
 * and the responder reads it, then the other way round, until the pattern ends.
 *
 * [N-HS-FAIL] Once a message fails to read or write part-way (authentication, an
 * invalid key from the peer), the handshake has failed (§5): every later call throws
 * the same error.
 */
export class HandshakeState {
  readonly #pattern: HandshakePattern;
  readonly #initiator: boolean;
  readonly #symmetric: SymmetricState;
  readonly #s: KeyPair | undefined;
  #e: KeyPair | undefined;
  #rs: Buffer | undefined;
  #re: Buffer | undefined;
  readonly #psks: readonly Buffer[];
  #pskIndex = 0;
  #messageIndex = 0;
  #failure: GbError | undefined;
  #result: HandshakeResult | undefined;
  #resultTaken = false;

  /**
   * Initialize(handshake_pattern, initiator, prologue, s, e, rs, re) (§5.3), with the
   * PSKs of §9: starts the transcript with the protocol name, the prologue and the
   * pre-message public keys (the initiator's first).
   * @throws {InternalError} INTERNAL when the pattern is unknown, a key it needs is
   *   missing, a public key is given that no pre-message lists, the number of PSKs
   *   differs from its `psk` tokens, or a key has the wrong length.
   */
  constructor(options: HandshakeOptions) {
    const pattern = handshakePattern(options.pattern);
    this.#pattern = pattern;
    this.#initiator = options.initiator;
    this.#s = options.s;
    this.#e = options.e;
    this.#rs = copyKey(options.rs, "the peer's static public key");
    this.#re = copyKey(options.re, "the peer's ephemeral public key");
    const psks = options.psks ?? [];
    if (psks.length !== pattern.pskCount) {
      throw misuse(`${pattern.name} takes ${pattern.pskCount} PSKs, got ${psks.length}`);
    }
    this.#psks = psks.map((psk) => {
      assertByteLength(psk, PSK_BYTES, "a PSK");
      return Buffer.from(psk);
    });
    this.#checkKeys();

    this.#symmetric = new SymmetricState(Buffer.from(protocolName(pattern.name), "ascii"));
    this.#symmetric.mixHash(options.prologue ?? EMPTY);
    for (const token of pattern.initiatorPreMessage) this.#mixPreMessageKey(token, true);
    for (const token of pattern.responderPreMessage) this.#mixPreMessageKey(token, false);
  }

  /** The handshake pattern being run, modifiers applied. */
  get pattern(): HandshakePattern {
    return this.#pattern;
  }

  /** True for the initiator. */
  get initiator(): boolean {
    return this.#initiator;
  }

  /** True once every message of the pattern has been written or read. */
  get finished(): boolean {
    return this.#messageIndex >= this.#pattern.messages.length;
  }

  /** True when the next step is ours: {@link writeMessage} rather than {@link readMessage}. */
  get isOurTurn(): boolean {
    return !this.finished && this.#initiator === (this.#messageIndex % 2 === 0);
  }

  /** The peer's static public key (32 bytes) once known: given, or received in the handshake. */
  get remoteStaticKey(): Buffer | undefined {
    return this.#rs === undefined ? undefined : Buffer.from(this.#rs);
  }

  /**
   * WriteMessage(payload, message_buffer) (§5.3): processes the next message pattern's
   * tokens and returns the message: public keys, then the payload, encrypted once a key
   * exists.
   * @param payload at most what fits in 65535 bytes with the message's keys and tags.
   * @throws {InternalError} INTERNAL when it is not our turn, the handshake is over, or
   *   the message would exceed 65535 bytes [N-MSG-MAX] (all before anything changed).
   * @throws {CryptoError} DECRYPT_FAILED when a DH with the peer's key fails [N-DH-ZERO].
   */
  writeMessage(payload: Uint8Array = EMPTY): Buffer {
    this.#checkStep(true);
    const tokens = this.#currentTokens();
    const layout = this.#layout(tokens);
    const messageBytes = layout.fixedBytes + payload.length + layout.payloadTagBytes;
    if (messageBytes > MAX_MESSAGE_BYTES) {
      throw misuse(
        `a ${payload.length}-byte payload makes a ${messageBytes}-byte handshake message (at most ${MAX_MESSAGE_BYTES})`,
      );
    }
    return this.#failOnError(() => {
      const parts: Buffer[] = [];
      for (const token of tokens) {
        if (token === "e") {
          // A supplied `e` (known-answer tests) stands in for GENERATE_KEYPAIR().
          const e = this.#e ?? generateKeyPair();
          this.#e = e;
          parts.push(Buffer.from(e.publicKey));
          this.#mixEphemeral(e.publicKey);
        } else if (token === "s") {
          parts.push(this.#symmetric.encryptAndHash(this.#require(this.#s, "s").publicKey));
        } else {
          this.#mixSecret(token);
        }
      }
      parts.push(this.#symmetric.encryptAndHash(payload));
      this.#endMessage();
      return Buffer.concat(parts, messageBytes);
    });
  }

  /**
   * ReadMessage(message, payload_buffer) (§5.3): processes the next message pattern's
   * tokens against a message from the peer and returns its payload, authenticated
   * whenever a key exists.
   * @param message the whole handshake message as received; not retained.
   * @throws {CryptoError} DECRYPT_FAILED when the message is too short for its tokens,
   *   longer than 65535 bytes [N-MSG-MAX], fails authentication (tampering, a wrong PSK,
   *   a different prologue, a peer that is not who the pattern expects), or carries an
   *   invalid public key [N-DH-ZERO]; the handshake has then failed [N-HS-FAIL].
   * @throws {InternalError} INTERNAL when it is our turn to write or the handshake is over.
   */
  readMessage(message: Uint8Array): Buffer {
    this.#checkStep(false);
    const tokens = this.#currentTokens();
    return this.#failOnError(() => {
      const layout = this.#layout(tokens);
      const minimumBytes = layout.fixedBytes + layout.payloadTagBytes;
      if (message.length < minimumBytes || message.length > MAX_MESSAGE_BYTES) {
        throw new CryptoError(
          ErrorCode.DECRYPT_FAILED,
          `a ${message.length}-byte handshake message cannot be valid here (${minimumBytes} to ${MAX_MESSAGE_BYTES} bytes)`,
        );
      }
      let offset = 0;
      for (const token of tokens) {
        if (token === "e") {
          const re = Buffer.from(message.subarray(offset, offset + DH_BYTES));
          offset += DH_BYTES;
          this.#re = re;
          this.#mixEphemeral(re);
        } else if (token === "s") {
          const length = DH_BYTES + (this.#symmetric.hasKey() ? TAG_BYTES : 0);
          this.#rs = this.#symmetric.decryptAndHash(message.subarray(offset, offset + length));
          offset += length;
        } else {
          this.#mixSecret(token);
        }
      }
      const payload = this.#symmetric.decryptAndHash(message.subarray(offset));
      this.#endMessage();
      return payload;
    });
  }

  /**
   * The result of Split() (§5.2) once the last message has been written or read: the
   * transport CipherStates, in initiator/responder order and as send/receive for this
   * party, and the handshake hash. The HandshakeState is spent: it can be taken once.
   * @throws {InternalError} INTERNAL before the handshake has finished, or a second time.
   */
  split(): HandshakeResult {
    if (this.#failure) throw this.#failure;
    if (this.#result === undefined) throw misuse("the handshake has not finished");
    if (this.#resultTaken) throw misuse("the transport CipherStates were already taken");
    this.#resultTaken = true;
    return this.#result;
  }

  /**
   * GetHandshakeHash() (§5.2, §11.2): `h` once the handshake has finished.
   * @throws {InternalError} INTERNAL before the handshake has finished.
   */
  getHandshakeHash(): Buffer {
    if (this.#result === undefined) throw misuse("the handshake has not finished");
    return Buffer.from(this.#result.handshakeHash);
  }

  #checkStep(writing: boolean): void {
    if (this.#failure) throw this.#failure;
    if (this.finished) throw misuse("the handshake has already finished");
    if (this.isOurTurn !== writing) {
      throw misuse(writing ? "it is the peer's turn to send" : "it is our turn to send");
    }
  }

  #currentTokens(): readonly Token[] {
    return this.#require(this.#pattern.messages[this.#messageIndex], "message pattern");
  }

  /**
   * The size of the next message's keys, and whether its payload gets a tag: replays
   * the tokens' effect on HasKey() without touching the state, so size checks come
   * before any change.
   */
  #layout(tokens: readonly Token[]): { fixedBytes: number; payloadTagBytes: number } {
    let keyed = this.#symmetric.hasKey();
    let fixedBytes = 0;
    for (const token of tokens) {
      if (token === "e") {
        fixedBytes += DH_BYTES;
        if (this.#pattern.psk) keyed = true;
      } else if (token === "s") {
        fixedBytes += DH_BYTES + (keyed ? TAG_BYTES : 0);
      } else {
        keyed = true;
      }
    }
    return { fixedBytes, payloadTagBytes: keyed ? TAG_BYTES : 0 };
  }

  /** MixHash of an ephemeral public key, followed in a PSK handshake by MixKey [N-PSK] (§9.2). */
  #mixEphemeral(publicKey: Uint8Array): void {
    this.#symmetric.mixHash(publicKey);
    if (this.#pattern.psk) this.#symmetric.mixKey(publicKey);
  }

  /** The DH tokens and `psk` (§5.3, §9.2): each mixes a secret into the chaining key. */
  #mixSecret(token: Exclude<Token, "e" | "s">): void {
    const symmetric = this.#symmetric;
    const initiator = this.#initiator;
    switch (token) {
      case "ee":
        symmetric.mixKey(this.#dh(this.#e, this.#re));
        return;
      case "es":
        symmetric.mixKey(initiator ? this.#dh(this.#e, this.#rs) : this.#dh(this.#s, this.#re));
        return;
      case "se":
        symmetric.mixKey(initiator ? this.#dh(this.#s, this.#re) : this.#dh(this.#e, this.#rs));
        return;
      case "ss":
        symmetric.mixKey(this.#dh(this.#s, this.#rs));
        return;
      case "psk":
        // [N-PSK] MixKeyAndHash(psk), the PSKs taken in token order.
        symmetric.mixKeyAndHash(this.#require(this.#psks[this.#pskIndex++], "PSK"));
        return;
    }
  }

  #dh(local: KeyPair | undefined, remote: Buffer | undefined): Buffer {
    return dh(this.#require(local, "local key pair"), this.#require(remote, "peer public key"));
  }

  #endMessage(): void {
    this.#messageIndex += 1;
    if (!this.finished) return;
    this.#forgetSecrets();
    const [initiatorToResponder, responderToInitiator] = this.#symmetric.split();
    this.#result = {
      initiatorToResponder,
      responderToInitiator,
      send: this.#initiator ? initiatorToResponder : responderToInitiator,
      receive: this.#initiator ? responderToInitiator : initiatorToResponder,
      handshakeHash: this.#symmetric.getHandshakeHash(),
    };
  }

  /**
   * Only `h` outlives the handshake (§5): our copies of the PSKs are zeroed and the
   * ephemeral key pair dropped, so a later leak of this object reveals neither.
   */
  #forgetSecrets(): void {
    for (const psk of this.#psks) psk.fill(0);
    this.#e = undefined;
  }

  /** Runs one message's processing; any error in it ends the handshake [N-HS-FAIL]. */
  #failOnError<T>(step: () => T): T {
    try {
      return step();
    } catch (error) {
      this.#forgetSecrets();
      this.#failure =
        error instanceof GbError
          ? error
          : new InternalError(ErrorCode.INTERNAL, "the Noise handshake failed", { cause: error });
      throw this.#failure;
    }
  }

  /** MixHash of a pre-message public key (§5.3), ours or the peer's. */
  #mixPreMessageKey(token: PreMessageToken, initiatorsPreMessage: boolean): void {
    const ours = initiatorsPreMessage === this.#initiator;
    const key =
      token === "e" ? (ours ? this.#e?.publicKey : this.#re) : ours ? this.#s?.publicKey : this.#rs;
    const publicKey = this.#require(key, `pre-message ${token}`);
    if (token === "e") this.#mixEphemeral(publicKey);
    else this.#symmetric.mixHash(publicKey);
  }

  /**
   * The keys the pattern needs must be given, and the peer's public keys only when a
   * pre-message lists them (§5.3), so that a mixed-up configuration fails here rather
   * than half-way through a handshake.
   */
  #checkKeys(): void {
    const pattern = this.#pattern;
    const ourPre = this.#initiator ? pattern.initiatorPreMessage : pattern.responderPreMessage;
    const peerPre = this.#initiator ? pattern.responderPreMessage : pattern.initiatorPreMessage;
    // The DH tokens that use our static key: `se` for the initiator, `es` for the responder.
    const ourStaticDh: Token = this.#initiator ? "se" : "es";
    const usesOurStatic =
      ourPre.includes("s") ||
      pattern.messages.some(
        (tokens, index) =>
          tokens.includes("ss") ||
          tokens.includes(ourStaticDh) ||
          (this.#initiator === (index % 2 === 0) && tokens.includes("s")),
      );
    if (usesOurStatic && this.#s === undefined)
      throw misuse(`${pattern.name} needs our static key`);
    if (ourPre.includes("e") && this.#e === undefined) {
      throw misuse(`${pattern.name} needs our pre-message ephemeral key`);
    }
    if (peerPre.includes("s") !== (this.#rs !== undefined)) {
      throw misuse(`${pattern.name} ${peerPre.includes("s") ? "needs" : "takes no"} rs`);
    }
    if (peerPre.includes("e") !== (this.#re !== undefined)) {
      throw misuse(`${pattern.name} ${peerPre.includes("e") ? "needs" : "takes no"} re`);
    }
  }

  #require<T>(value: T | undefined, what: string): T {
    if (value === undefined) throw misuse(`${this.#pattern.name}: no ${what} at this point`);
    return value;
  }
}

function copyKey(key: Uint8Array | undefined, what: string): Buffer | undefined {
  if (key === undefined) return undefined;
  assertByteLength(key, DH_BYTES, what);
  return Buffer.from(key);
}

function misuse(message: string): InternalError {
  return new InternalError(ErrorCode.INTERNAL, message);
}
