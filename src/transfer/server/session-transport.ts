import type { Socket } from "node:net";
import { RecordOpener } from "../../crypto/record-opener.js";
import { RecordSealer } from "../../crypto/record-sealer.js";
import { respondToSession, sessionPrologue } from "../../crypto/session-handshake.js";
import { FRAME_HEADER_BYTES } from "../../framing/frame.js";
import type { FrameParser } from "../../framing/frame-parser.js";
import { FrameWriter } from "../../framing/frame-writer.js";
import { encodePreamble } from "../../framing/preamble.js";
import { RecordSink } from "../../framing/record-sink.js";
import { FrameType, PROTOCOL_VERSION } from "../../protocol/constants.js";
import { allowsPlaintext } from "./plaintext-policy.js";
import type { SessionInfo } from "./received-item.js";
import type { SessionContext } from "./session-context.js";

/** Both preambles of a version-2 connection: the same 8 bytes each way [P-PREAMBLE]. */
const PREAMBLE = encodePreamble(PROTOCOL_VERSION);

const PLAIN_SESSION: SessionInfo = { encrypted: false, fingerprint: null };

/**
 * How one connection's frames travel, for its session's state machine: in the clear
 * until a handshake succeeds, then in records both ways [R-RECORD]. It feeds the
 * session's frame parser with what arrives (the records' verified plaintext, once
 * encrypted) and gives it the writer to answer with.
 */
export class SessionTransport {
  readonly #socket: Socket;
  readonly #parser: FrameParser;
  readonly #masterKey: Buffer;
  /** The HELLO frame exactly as this peer got it: part of the prologue [H-PROLOGUE]. */
  readonly #helloFrame: Buffer;
  /** May this peer connect in the clear [H-POLICY]. */
  readonly plainAllowed: boolean;
  #writer: FrameWriter;
  /** Opens the client's records once the handshake is done; undefined before, or plain. */
  #opener: RecordOpener | undefined;
  #recordFailure: unknown;
  #session: SessionInfo = PLAIN_SESSION;

  constructor(socket: Socket, parser: FrameParser, context: SessionContext) {
    this.#socket = socket;
    this.#parser = parser;
    this.#masterKey = context.masterKey;
    this.#writer = new FrameWriter(socket);
    this.plainAllowed = allowsPlaintext(context.plaintext, socket.remoteAddress);
    this.#helloFrame = this.plainAllowed
      ? context.helloFrames.noiseAndPlain
      : context.helloFrames.noiseOnly;
  }

  /** Frames in the clear until the handshake, then into records [R-RECORD]. */
  get writer(): FrameWriter {
    return this.#writer;
  }

  /** The session as far as it got: plain until a handshake succeeds. */
  get session(): SessionInfo {
    return this.#session;
  }

  /**
   * A record that failed [R-FAIL], once one has: the connection ends with it once the
   * frames before it, all verified, have been handled.
   */
  get recordFailure(): unknown {
    return this.#recordFailure;
  }

  /** True when neither a frame nor a record is partly received [S-END] [R-END]. */
  get atBoundary(): boolean {
    return this.#parser.atBoundary && (this.#opener?.atBoundary ?? true);
  }

  /**
   * [P-PREAMBLE] [M-HELLO] The server speaks first, without waiting for the client;
   * HELLO's `accepts` depends on who the client is [H-POLICY].
   */
  greet(): void {
    this.#writer.writePreamble(PROTOCOL_VERSION);
    this.#writer.writeFrame(FrameType.HELLO, this.#helloFrame.subarray(FRAME_HEADER_BYTES));
  }

  /**
   * Received bytes: frames on a plain connection; records once the handshake is done,
   * whose verified plaintext is the frame stream [R-VERIFY].
   */
  receive(bytes: Buffer): void {
    const opener = this.#opener;
    if (opener === undefined) {
      this.#parser.push(bytes);
      return;
    }
    if (this.#recordFailure !== undefined) return;
    // [R-FAIL] the records before a bad one were verified: their frames are handled.
    for (const plaintext of opener.push(bytes)) this.#parser.push(plaintext);
    this.#recordFailure = opener.failure;
  }

  /**
   * The responder's side of the handshake [H-PATTERN]: message 2 goes out in the clear,
   * then both directions switch to records [H-KEYS]; the bytes the parser holds past
   * message 1 are record bytes.
   * @throws {CryptoError} KEY_MISMATCH when message 1 does not authenticate (another key,
   *   an altered prologue) [H-FAIL]; the connection then ends with a cleartext ERROR.
   * @throws {ProtocolError} MALFORMED_MESSAGE when it is not 48 bytes [H-MESSAGES].
   */
  respond(message1: Buffer): void {
    const { message2, keys } = respondToSession(message1, {
      masterKey: this.#masterKey,
      prologue: sessionPrologue(PREAMBLE, PREAMBLE, this.#helloFrame),
    });
    this.#writer.writeFrame(FrameType.HANDSHAKE, message2);
    // Message 2 leaves in the clear, ahead of every record.
    this.#writer.flush();
    this.#writer = new FrameWriter(new RecordSink(this.#socket, new RecordSealer(keys.send)));
    this.#opener = new RecordOpener(keys.receive);
    this.#session = { encrypted: true, fingerprint: keys.fingerprint };
    for (const bytes of this.#parser.takeBuffered()) this.receive(bytes);
  }
}
