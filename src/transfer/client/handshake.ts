import { isIPv6, connect as netConnect, type Socket } from "node:net";
import { deriveKeyFromPassphrase } from "../../crypto/passphrase.js";
import { RecordOpener } from "../../crypto/record-opener.js";
import { RecordSealer } from "../../crypto/record-sealer.js";
import {
  SessionInitiator,
  sessionPrologue,
  type SessionKeys,
} from "../../crypto/session-handshake.js";
import {
  ErrorCode,
  GbError,
  NetworkError,
  ProtocolError,
  RefusedError,
  errorFromPeer,
  toGbError,
} from "../../errors.js";
import { encodeFrame, type ParsedFrame } from "../../framing/frame.js";
import { FrameParser } from "../../framing/frame-parser.js";
import { FrameWriter } from "../../framing/frame-writer.js";
import { encodePreamble } from "../../framing/preamble.js";
import { RecordSink } from "../../framing/record-sink.js";
import { FrameType, PROTOCOL_VERSION, SERVER_FRAME_LIMITS } from "../../protocol/constants.js";
import { decodeError, decodeHello, type Hello } from "../../protocol/messages.js";
import { UnsupportedVersionError } from "../../protocol/unsupported-version-error.js";
import { DEFAULT_HOST, DEFAULT_PORT } from "../default-address.js";
import {
  DEFAULT_CONNECT_TIMEOUT_MS,
  type ClientOptions,
  type SessionInfo,
} from "./client-options.js";

/** Bytes queued on the socket before the sender waits for it to drain. */
const SOCKET_WRITE_BUFFER_BYTES = 1024 * 1024;

/** Both preambles of a version-2 connection: the same 8 bytes each way [P-PREAMBLE]. */
const PREAMBLE = encodePreamble(PROTOCOL_VERSION);

/** A connection that passed the handshake, ready for a client to take over. */
export interface OpenConnection {
  readonly socket: Socket;
  /** The frame stream from the server: fed the socket's bytes, or the records' plaintext. */
  readonly parser: FrameParser;
  /** Writes frames in the clear, or into records once a session is encrypted. */
  readonly writer: FrameWriter;
  /** Opens the server's records in an encrypted session; undefined on a plain connection. */
  readonly opener: RecordOpener | undefined;
  /**
   * Record bytes that arrived with the handshake's last message, for {@link opener};
   * or the first record's failure [R-FAIL].
   */
  readonly early: { readonly plaintext: readonly Buffer[]; readonly failure: unknown };
  readonly hello: Hello;
  readonly session: SessionInfo;
  /** Keeps socket errors from going unhandled until the client has its own listener. */
  readonly guard: EarlyErrorGuard;
}

/** A source of server frames in the handshake: the next one, with a time limit. */
type NextFrame = () => Promise<ParsedFrame>;

/**
 * Connects, exchanges preambles [P-PREAMBLE] and reads the server's HELLO [M-HELLO].
 * With a key, runs the Noise handshake [H-PATTERN] and switches to records; without
 * one, stays plain, if the server takes this client in the clear [H-POLICY]. On failure
 * the socket is closed.
 * @throws {NetworkError} CONNECT_FAILED / TIMEOUT
 * @throws {ProtocolError} BAD_PREAMBLE / UNSUPPORTED_VERSION when the peer is not a
 *   version-2 gb-transfer server; MALFORMED_MESSAGE / UNEXPECTED_FRAME when it breaks
 *   the handshake
 * @throws {CryptoError} KEY_MISMATCH when the server holds another key [H-FAIL]; KEY_INVALID
 * @throws {RefusedError} ENCRYPTION_REQUIRED (local) when the server takes this client
 *   only encrypted and no key was given
 * @throws {GbError} the server's own refusal (BUSY, SHUTTING_DOWN, ...), marked remote
 */
export async function openConnection(options: ClientOptions): Promise<OpenConnection> {
  const host = options.host ?? DEFAULT_HOST;
  const port = options.port ?? DEFAULT_PORT;
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  // For messages: an IPv6 address in brackets, so that the port stands apart.
  const where = isIPv6(host) ? `[${host}]:${String(port)}` : `${host}:${String(port)}`;
  // Node passes stream options through to the socket; @types/node does not list them.
  const connectOptions = {
    host,
    port,
    noDelay: true,
    writableHighWaterMark: SOCKET_WRITE_BUFFER_BYTES,
  };
  const socket = netConnect(connectOptions);
  // From here until the client object has its own listener, a socket error must never
  // go unhandled (it would crash the process): between HELLO and the constructor,
  // deriving a key from a passphrase takes a while.
  const guard = new EarlyErrorGuard(socket);
  const parser = new FrameParser(SERVER_FRAME_LIMITS, { expectPreamble: true });
  const writer = new FrameWriter(socket);
  const encryption = options.encryption;
  let hello: { hello: Hello; frame: Buffer };
  try {
    // Deriving a key from a passphrase takes a while after HELLO: the socket is paused
    // meanwhile. Otherwise the client object takes over in this turn, as it is.
    const pause = encryption !== undefined && "passphrase" in encryption;
    hello = await readHello(socket, writer, parser, { where, timeoutMs, pause });
  } catch (error) {
    writer.flush();
    socket.destroy();
    throw error;
  }
  try {
    if (encryption === undefined) {
      // [H-POLICY] Told now, before any item is sent: this server wants a key from us.
      if (!hello.hello.accepts.includes("plain")) {
        throw new RefusedError(
          ErrorCode.ENCRYPTION_REQUIRED,
          "the server takes only encrypted connections from this client",
        );
      }
      return {
        socket,
        parser,
        writer,
        opener: undefined,
        early: { plaintext: [], failure: undefined },
        hello: hello.hello,
        session: { encrypted: false, fingerprint: null },
        guard,
      };
    }
    const masterKey =
      "key" in encryption
        ? Buffer.from(encryption.key)
        : await deriveKeyFromPassphrase(encryption.passphrase, hello.hello.scryptSalt);
    const keys = await runHandshake(socket, writer, parser, {
      masterKey,
      helloFrame: hello.frame,
      timeoutMs,
      what: where,
    });
    return encryptedConnection(socket, parser, writer, keys, hello.hello, guard);
  } catch (error) {
    // The held-back preamble goes first, so the server sees a clean goodbye.
    writer.flush();
    socket.destroy();
    throw error;
  }
}

/**
 * Sends message 1 (with the held-back preamble) and reads the server's message 2
 * [H-PATTERN]. The prologue binds both preambles and HELLO as received [H-PROLOGUE].
 */
async function runHandshake(
  socket: Socket,
  writer: FrameWriter,
  parser: FrameParser,
  settings: { masterKey: Buffer; helloFrame: Buffer; timeoutMs: number; what: string },
): Promise<SessionKeys> {
  const initiator = new SessionInitiator({
    masterKey: settings.masterKey,
    prologue: sessionPrologue(PREAMBLE, PREAMBLE, settings.helloFrame),
  });
  if (socket.isPaused()) socket.resume();
  writer.writeFrame(FrameType.HANDSHAKE, initiator.message1);
  writer.flush();
  const next = frameReader(socket, parser, settings.timeoutMs, settings.what);
  const frame = await next();
  if (frame.type === FrameType.ERROR) throw refusal(frame.payload);
  if (frame.type !== FrameType.HANDSHAKE) {
    throw new ProtocolError(
      ErrorCode.UNEXPECTED_FRAME,
      `the server answered the handshake with frame type ${frame.type}`,
    );
  }
  return initiator.finish(frame.payload);
}

/** Switches a connection whose handshake is done to records, both ways [H-KEYS]. */
function encryptedConnection(
  socket: Socket,
  parser: FrameParser,
  writer: FrameWriter,
  keys: SessionKeys,
  hello: Hello,
  guard: EarlyErrorGuard,
): OpenConnection {
  writer.flush();
  const opener = new RecordOpener(keys.receive);
  const plaintext: Buffer[] = [];
  // Whatever came after message 2 is record bytes.
  for (const bytes of parser.takeBuffered()) {
    if (opener.failure === undefined) plaintext.push(...opener.push(bytes));
  }
  const failure = opener.failure;
  return {
    socket,
    parser,
    writer: new FrameWriter(new RecordSink(socket, new RecordSealer(keys.send))),
    opener,
    early: { plaintext, failure },
    hello,
    session: { encrypted: true, fingerprint: keys.fingerprint },
    guard,
  };
}

/** The server's refusal in an ERROR frame, as its own error (marked remote). */
function refusal(payload: Buffer): GbError {
  const message = decodeError(payload);
  return errorFromPeer(
    message.code,
    `the server refused the connection: ${message.message}`,
    undefined,
  );
}

/**
 * Reads frames during the handshake, one call at a time, each bounded by `timeoutMs`.
 * The socket's data goes to `parser`; a close or an error before a frame fails.
 */
function frameReader(
  socket: Socket,
  parser: FrameParser,
  timeoutMs: number,
  what: string,
): NextFrame {
  return () =>
    new Promise<ParsedFrame>((resolve, reject) => {
      const finish = (outcome: ParsedFrame | GbError): void => {
        clearTimeout(timer);
        socket.off("data", onData);
        socket.off("error", onError);
        socket.off("close", onClose);
        if (outcome instanceof GbError) reject(outcome);
        else resolve(outcome);
      };
      const take = (): boolean => {
        try {
          const unit = parser.next();
          if (unit === undefined) return false;
          if (unit.kind === "preamble") {
            throw new ProtocolError(ErrorCode.UNEXPECTED_FRAME, "a second preamble");
          }
          finish(unit.frame);
        } catch (error) {
          finish(toGbError(error, "handshake failed"));
        }
        return true;
      };
      const onData = (chunk: Buffer): void => {
        parser.push(chunk);
        take();
      };
      const onError = (error: Error): void => {
        finish(
          new NetworkError(ErrorCode.CONNECTION_LOST, `connection lost: ${error.message}`, {
            cause: error,
          }),
        );
      };
      const onClose = (): void => {
        finish(
          new NetworkError(
            ErrorCode.CONNECTION_LOST,
            `the server closed the connection during the handshake (${what})`,
          ),
        );
      };
      const timer = setTimeout(() => {
        finish(
          new NetworkError(ErrorCode.TIMEOUT, `no handshake from ${what} within ${timeoutMs} ms`),
        );
      }, timeoutMs);
      socket.on("data", onData);
      socket.once("error", onError);
      socket.once("close", onClose);
      if (take()) return;
      if (socket.destroyed) onClose();
    });
}

/** Waits for the connection and reads the server's preamble and HELLO (pausing the socket when asked). */
async function readHello(
  socket: Socket,
  writer: FrameWriter,
  parser: FrameParser,
  settings: { where: string; timeoutMs: number; pause: boolean },
): Promise<{ hello: Hello; frame: Buffer }> {
  const { where, timeoutMs } = settings;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      finish(new NetworkError(ErrorCode.TIMEOUT, `no answer from ${where} within ${timeoutMs} ms`));
    }, timeoutMs);
    const finish = (outcome: { hello: Hello; frame: Buffer } | GbError): void => {
      clearTimeout(timer);
      // Paused until the client object takes over, so no byte after HELLO is lost while
      // a key is derived. (With no wait in between, the object takes over before the
      // next read, and pausing would only cost two system calls.)
      if (settings.pause) socket.pause();
      socket.off("data", onData);
      socket.off("error", onError);
      socket.off("close", onClose);
      socket.off("connect", onConnect);
      if (outcome instanceof GbError) reject(outcome);
      else resolve(outcome);
    };
    const onConnect = (): void => {
      // Held back until the first frame: one packet less per connection.
      writer.holdPreamble(PROTOCOL_VERSION);
    };
    const onError = (error: NodeJS.ErrnoException): void => {
      finish(
        new NetworkError(ErrorCode.CONNECT_FAILED, `cannot connect to ${where}: ${error.message}`, {
          cause: error,
        }),
      );
    };
    const onClose = (): void => {
      finish(
        new NetworkError(
          ErrorCode.CONNECT_FAILED,
          `${where} closed the connection before greeting`,
        ),
      );
    };
    const onData = (chunk: Buffer): void => {
      parser.push(chunk);
      try {
        for (let unit = parser.next(); unit !== undefined; unit = parser.next()) {
          if (unit.kind === "preamble") {
            // [P-PREAMBLE] the client fails without sending a frame.
            if (unit.version !== PROTOCOL_VERSION) {
              throw new UnsupportedVersionError(unit.version);
            }
            continue;
          }
          if (unit.frame.type === FrameType.ERROR) throw refusal(unit.frame.payload);
          if (unit.frame.type !== FrameType.HELLO) {
            throw new ProtocolError(
              ErrorCode.UNEXPECTED_FRAME,
              "the server did not send HELLO first",
            );
          }
          // [H-PROLOGUE] the frame exactly as received: its header is its type and length.
          const frame = encodeFrame(unit.frame.type, unit.frame.payload);
          finish({ hello: decodeHello(unit.frame.payload), frame });
          return;
        }
      } catch (error) {
        finish(toGbError(error, "handshake failed"));
      }
    };
    socket.once("connect", onConnect);
    socket.on("data", onData);
    socket.once("error", onError);
    socket.once("close", onClose);
  });
}

/**
 * Keeps an "error" listener on the socket from connecting until the client object has
 * its own, so that an error in between (the server resetting the connection while a
 * key is derived) is remembered instead of crashing the process as an unhandled event.
 */
export class EarlyErrorGuard {
  /** The first socket error seen, if any. */
  error: Error | undefined;
  readonly #socket: Socket;
  readonly #onError = (error: Error): void => {
    this.error ??= error;
  };

  constructor(socket: Socket) {
    this.#socket = socket;
    socket.on("error", this.#onError);
  }

  /** Call once another "error" listener is attached. */
  release(): void {
    this.#socket.off("error", this.#onError);
  }
}
