import { connect as netConnect, type Socket } from "node:net";
import { keyId } from "../../crypto/key-id.js";
import { deriveKeyFromPassphrase } from "../../crypto/passphrase.js";
import {
  CryptoError,
  ErrorCode,
  GbError,
  NetworkError,
  ProtocolError,
  errorFromPeer,
  toGbError,
} from "../../errors.js";
import { FrameParser } from "../../framing/frame-parser.js";
import { FrameWriter } from "../../framing/frame-writer.js";
import { FrameType, PROTOCOL_VERSION, SERVER_FRAME_LIMITS } from "../../protocol/constants.js";
import { decodeError, decodeHello, type Hello } from "../../protocol/messages.js";
import { DEFAULT_HOST, DEFAULT_PORT } from "../default-address.js";
import { DEFAULT_CONNECT_TIMEOUT_MS, type ClientOptions } from "./client-options.js";

/** Bytes queued on the socket before the sender waits for it to drain. */
const SOCKET_WRITE_BUFFER_BYTES = 1024 * 1024;

/** A connection that passed the handshake, ready for a client to take over. */
export interface OpenConnection {
  readonly socket: Socket;
  readonly parser: FrameParser;
  readonly writer: FrameWriter;
  readonly hello: Hello;
  /** The key items are encrypted with, when one was given; the server holds the same. */
  readonly masterKey: Buffer | undefined;
  /** Keeps socket errors from going unhandled until the client has its own listener. */
  readonly guard: EarlyErrorGuard;
}

/**
 * Connects, exchanges preambles [P-PREAMBLE], reads the server's HELLO [M-HELLO] and,
 * when a key is given, checks that the server holds the same key without sending it
 * [E-KEYID]. On failure the socket is closed.
 * @throws {NetworkError} CONNECT_FAILED / TIMEOUT
 * @throws {ProtocolError} BAD_PREAMBLE / UNSUPPORTED_VERSION when the peer is not a gb-transfer server
 * @throws {CryptoError} KEY_MISMATCH / KEY_INVALID
 * @throws {GbError} the server's own refusal (BUSY, SHUTTING_DOWN, ...), marked remote
 */
export async function openConnection(options: ClientOptions): Promise<OpenConnection> {
  const host = options.host ?? DEFAULT_HOST;
  const port = options.port ?? DEFAULT_PORT;
  const timeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
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
  let hello: Hello;
  try {
    // Deriving a key from a passphrase takes a while after HELLO: the socket is paused
    // meanwhile. Otherwise the client object takes over in this turn, as it is.
    const pause = options.encryption !== undefined && "passphrase" in options.encryption;
    hello = await readHello(socket, writer, parser, { host, port, timeoutMs, pause });
  } catch (error) {
    writer.flush();
    socket.destroy();
    throw error;
  }
  let masterKey: Buffer | undefined;
  if (options.encryption !== undefined) {
    try {
      masterKey =
        "key" in options.encryption
          ? Buffer.from(options.encryption.key)
          : await deriveKeyFromPassphrase(options.encryption.passphrase, hello.scryptSalt);
      if (!keyId(masterKey).equals(hello.keyId)) {
        throw new CryptoError(
          ErrorCode.KEY_MISMATCH,
          "the server holds a different key than this client",
        );
      }
    } catch (error) {
      // The held-back preamble goes first, so the server sees a clean goodbye.
      writer.flush();
      socket.destroy();
      throw error;
    }
  }
  return { socket, parser, writer, hello, masterKey, guard };
}

/** Waits for the connection and reads the server's preamble and HELLO (pausing the socket when asked). */
async function readHello(
  socket: Socket,
  writer: FrameWriter,
  parser: FrameParser,
  settings: { host: string; port: number; timeoutMs: number; pause: boolean },
): Promise<Hello> {
  const { host, port, timeoutMs } = settings;
  return new Promise<Hello>((resolve, reject) => {
    const timer = setTimeout(() => {
      finish(
        new NetworkError(
          ErrorCode.TIMEOUT,
          `no answer from ${host}:${port} within ${timeoutMs} ms`,
        ),
      );
    }, timeoutMs);
    const finish = (outcome: Hello | GbError): void => {
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
        new NetworkError(
          ErrorCode.CONNECT_FAILED,
          `cannot connect to ${host}:${port}: ${error.message}`,
          { cause: error },
        ),
      );
    };
    const onClose = (): void => {
      finish(
        new NetworkError(
          ErrorCode.CONNECT_FAILED,
          `${host}:${port} closed the connection before greeting`,
        ),
      );
    };
    const onData = (chunk: Buffer): void => {
      parser.push(chunk);
      try {
        for (let unit = parser.next(); unit !== undefined; unit = parser.next()) {
          if (unit.kind === "preamble") {
            if (unit.version !== PROTOCOL_VERSION) {
              throw new ProtocolError(
                ErrorCode.UNSUPPORTED_VERSION,
                `the server speaks protocol version ${unit.version}; this client speaks ${PROTOCOL_VERSION}`,
              );
            }
            continue;
          }
          if (unit.frame.type === FrameType.ERROR) {
            const message = decodeError(unit.frame.payload);
            throw errorFromPeer(
              message.code,
              `the server refused the connection: ${message.message}`,
              undefined,
            );
          }
          if (unit.frame.type !== FrameType.HELLO) {
            throw new ProtocolError(
              ErrorCode.UNEXPECTED_FRAME,
              "the server did not send HELLO first",
            );
          }
          finish(decodeHello(unit.frame.payload));
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
