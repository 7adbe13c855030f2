/**
 * Shared helpers for the integration tests: a real GbServer on 127.0.0.1 (port 0), real
 * GbClients, and raw `node:net` peers that speak the protocol by hand.
 *
 * Every resource a helper creates is registered with a {@link Resources} object; each
 * test file releases it after each test ({@link useResources}), so servers, sockets and
 * temporary directories never outlive their test. Nothing here sleeps for a fixed time: waits are on events
 * (socket data/close, server item/failure) and are always bounded by a timeout.
 */
import { randomBytes } from "node:crypto";
import { once, type EventEmitter } from "node:events";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, expect, vi } from "vitest";
import { MAX_RECORD_PLAINTEXT_BYTES } from "../../src/crypto/constants.js";
import { RecordOpener } from "../../src/crypto/record-opener.js";
import { RecordSealer } from "../../src/crypto/record-sealer.js";
import {
  SessionInitiator,
  sessionPrologue,
  type SessionKeys,
} from "../../src/crypto/session-handshake.js";
import { FrameParser } from "../../src/framing/frame-parser.js";
import { encodeFrame, type Frame } from "../../src/framing/frame.js";
import { encodePreamble } from "../../src/framing/preamble.js";
import {
  FrameType,
  MAX_CHUNK_FRAME_BYTES,
  PROTOCOL_VERSION,
  SERVER_FRAME_LIMITS,
} from "../../src/protocol/constants.js";
import {
  decodeError,
  decodeHello,
  decodeReceipt,
  itemHeaderText,
  type ErrorMessage,
  type Hello,
  type BatchMeta,
  type ItemMeta,
  type ReceiptBody,
} from "../../src/protocol/messages.js";
import { GbClient, type ClientOptions } from "../../src/transfer/client.js";
import { TEMP_FILE_PREFIX, TEMP_FILE_SUFFIX } from "../../src/transfer/server/item-store.js";
import type { ItemFailure, ReceivedItem } from "../../src/transfer/server/received-item.js";
import { GbServer, type ServerOptions } from "../../src/transfer/server.js";
import { withTimeout } from "../support/with-timeout.js";
import { startCountingRelay, type CountingRelay } from "../support/counting-relay.js";

export { sha256 } from "../support/sha256.js";

export const HOST = "127.0.0.1";
/** Default bound for any single wait in these tests. */
export const WAIT_MS = 5_000;

// ---------------------------------------------------------------------------------------
// Resource tracking
// ---------------------------------------------------------------------------------------

type Cleanup = () => unknown;

/** Cleanups run in reverse order of registration; every one runs even if another throws. */
export class Resources {
  readonly #cleanups: Cleanup[] = [];

  defer(cleanup: Cleanup): void {
    this.#cleanups.push(cleanup);
  }

  async release(): Promise<void> {
    const errors: unknown[] = [];
    while (this.#cleanups.length > 0) {
      const cleanup = this.#cleanups.pop()!;
      try {
        await cleanup();
      } catch (error) {
        errors.push(error);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, "cleanup failed");
  }
}

/** A {@link Resources} released after each test of the calling test file. */
export function useResources(): Resources {
  const resources = new Resources();
  afterEach(() => resources.release());
  return resources;
}

/** A fresh directory under the OS temp dir, removed on release. */
export async function makeTempDir(resources: Resources): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "gb-"));
  resources.defer(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

// ---------------------------------------------------------------------------------------
// Waiting
// ---------------------------------------------------------------------------------------

/** Rejects after `ms` unless `promise` settles first. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return withTimeout(promise, ms, `waiting for ${what}`);
}

/**
 * Resolves with the first element of `seen` matching `match`, waiting (bounded) for
 * `emitter` to emit `event` with new elements. `seen` must be filled by a listener
 * registered before this call.
 */
async function waitInList<T>(
  emitter: EventEmitter,
  event: string,
  seen: readonly T[],
  match: (value: T) => boolean,
  ms: number,
  what: string,
): Promise<T> {
  const found = seen.find(match);
  if (found !== undefined) return found;
  return within(
    new Promise<T>((resolve) => {
      const listener = (value: T): void => {
        if (match(value)) {
          emitter.off(event, listener);
          resolve(value);
        }
      };
      emitter.on(event, listener);
    }),
    ms,
    what,
  );
}

// ---------------------------------------------------------------------------------------
// Servers and clients
// ---------------------------------------------------------------------------------------

export interface TestServer {
  readonly server: GbServer;
  readonly port: number;
  readonly masterKey: Buffer;
  /** The temporary directory holding `saveDir` (and nothing else). */
  readonly root: string;
  readonly saveDir: string | null;
  /** Every `item` event, in order. */
  readonly items: ReceivedItem[];
  /** Every `failure` event, in order. */
  readonly failures: ItemFailure[];
  waitItem(match?: (item: ReceivedItem) => boolean, ms?: number): Promise<ReceivedItem>;
  waitFailure(match?: (failure: ItemFailure) => boolean, ms?: number): Promise<ItemFailure>;
  /** Resolves once no connection is open on the server. */
  waitNoConnections(ms?: number): Promise<void>;
}

export type TestServerOptions = Partial<Omit<ServerOptions, "host" | "port">> & {
  /** false: saveDir null. Default: `<root>/save`. */
  readonly save?: boolean;
};

/**
 * Starts a GbServer on 127.0.0.1, port 0, saving under a fresh temp dir (`<root>/save`),
 * with a random master key unless one is given. Closed (grace 1000 ms) on release.
 */
export async function startServer(
  resources: Resources,
  options: TestServerOptions = {},
): Promise<TestServer> {
  const root = await makeTempDir(resources);
  const { save, ...rest } = options;
  const saveDir =
    options.saveDir !== undefined
      ? options.saveDir
      : save === false
        ? null
        : path.join(root, "save");
  const masterKey = Buffer.from(options.masterKey ?? randomBytes(32));
  const server = await GbServer.listen({
    durable: false,
    dictValues: true,
    ...rest,
    host: HOST,
    port: 0,
    masterKey,
    saveDir,
  });
  resources.defer(() => server.close(1000));
  const items: ReceivedItem[] = [];
  const failures: ItemFailure[] = [];
  server.on("item", (item) => items.push(item));
  server.on("failure", (failure) => failures.push(failure));
  return {
    server,
    port: server.address().port,
    masterKey,
    root,
    saveDir,
    items,
    failures,
    waitItem: (match = () => true, ms = WAIT_MS) =>
      waitInList(server, "item", items, match, ms, "a server item event"),
    waitFailure: (match = () => true, ms = WAIT_MS) =>
      waitInList(server, "failure", failures, match, ms, "a server failure event"),
    waitNoConnections: async (ms = WAIT_MS) => {
      // The count drops a microtask after a server-side socket closes; poll, bounded.
      await vi.waitFor(
        () => {
          if (server.connections > 0) throw new Error(`${server.connections} connection(s) open`);
        },
        { timeout: ms, interval: 5 },
      );
    },
  };
}

/** A counting relay to `ts`, cut after `cutAfterBytes` when given; closed on release. */
export async function countingRelay(
  resources: Resources,
  ts: Pick<TestServer, "port">,
  cutAfterBytes?: number,
): Promise<CountingRelay> {
  const started = await startCountingRelay(
    ts.port,
    cutAfterBytes === undefined ? {} : { cutAfterBytes },
  );
  resources.defer(() => started.close());
  return started;
}

/** Connects a GbClient to `ts`; destroyed on release. */
export async function connectClient(
  resources: Resources,
  ts: Pick<TestServer, "port">,
  options: Omit<ClientOptions, "host" | "port"> = {},
): Promise<GbClient> {
  const client = await GbClient.connect({
    connectTimeoutMs: WAIT_MS,
    ...options,
    host: HOST,
    port: ts.port,
  });
  resources.defer(() => {
    client.destroy();
  });
  return client;
}

/**
 * Sends one small dictionary over a fresh encrypted session, and one over a plain
 * connection when the server takes this client in the clear, and checks the server
 * stored them.
 */
export async function expectServerHealthy(resources: Resources, ts: TestServer): Promise<void> {
  const value = { healthy: true, nonce: randomBytes(8).toString("hex") };
  const sent = [];
  const encrypted = await connectClient(resources, ts, { encryption: { key: ts.masterKey } });
  sent.push(await encrypted.sendDict(value, { format: "msgpack", name: "health.json" }));
  await encrypted.close();
  if (encrypted.hello.accepts.includes("plain")) {
    const plain = await connectClient(resources, ts);
    sent.push(await plain.sendDict(value, { format: "json", name: "health.json" }));
    await plain.close();
  }
  for (const item of sent) {
    if (item.receipt.sha256 !== item.sha256) throw new Error("health check receipt mismatch");
    if (ts.saveDir !== null && item.receipt.savedAs === null) {
      throw new Error("health check item was not saved");
    }
  }
}

// ---------------------------------------------------------------------------------------
// Raw protocol peers
// ---------------------------------------------------------------------------------------

/**
 * A client socket speaking the protocol by hand, in the clear or, after
 * {@link RawPeer.handshake}, over records. Every byte the server sends is parsed with
 * FrameParser (SERVER_FRAME_LIMITS), through a RecordOpener once the session is
 * encrypted; waits resolve on socket events, never on timers.
 */
export class RawPeer {
  readonly socket: net.Socket;
  readonly #parser = new FrameParser(SERVER_FRAME_LIMITS, { expectPreamble: true });
  /** The server's preamble version, once received. */
  serverVersion: number | undefined;
  /** Frames received from the server, in order (HELLO and HANDSHAKE included). */
  readonly frames: Frame[] = [];
  /** A parse error in what the server sent (always a failure of the server). */
  parseError: unknown;
  /** A record from the server that failed to open. */
  recordError: unknown;
  /** A socket error (for example ECONNRESET), if one happened. */
  socketError: Error | undefined;
  bytesReceived = 0;
  isClosed = false;
  readonly closed: Promise<void>;
  /** The session's keys once {@link handshake} succeeded. */
  keys: SessionKeys | undefined;
  #opener: RecordOpener | undefined;
  #sealer: RecordSealer | undefined;
  readonly #waiters = new Set<() => void>();

  private constructor(socket: net.Socket) {
    this.socket = socket;
    this.closed = new Promise((resolve) => {
      socket.once("close", () => {
        this.isClosed = true;
        resolve();
        this.#notify();
      });
    });
    socket.on("data", (chunk: Buffer) => {
      this.bytesReceived += chunk.length;
      this.#receive(chunk);
      this.#notify();
    });
    socket.on("error", (error) => {
      this.socketError ??= error;
    });
  }

  static async connect(resources: Resources, port: number): Promise<RawPeer> {
    const socket = net.connect({ host: HOST, port, noDelay: true });
    const peer = new RawPeer(socket);
    resources.defer(() => {
      socket.destroy();
    });
    await within(once(socket, "connect"), WAIT_MS, "TCP connect");
    return peer;
  }

  /**
   * A raw peer that ran the handshake with `masterKey`: it has sent its preamble and
   * message 1 and read message 2; {@link send} now seals into records.
   */
  static async session(
    resources: Resources,
    port: number,
    masterKey: Uint8Array,
  ): Promise<RawPeer> {
    const peer = await RawPeer.connect(resources, port);
    await peer.handshake(masterKey);
    return peer;
  }

  /** Writes `bytes` as they are; resolves once they were handed to the OS. */
  write(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.write(bytes, (error) => {
        if (error) reject(error);
        else resolve();
      });
    });
  }

  /** Sends frame bytes: sealed into records in a session, as they are otherwise. */
  send(bytes: Uint8Array): Promise<void> {
    return this.write(this.#sealer === undefined ? bytes : this.seal(bytes));
  }

  /** `bytes` sealed as the records the session's next ones would be (full ones, then the rest). */
  seal(bytes: Uint8Array): Buffer {
    const sealer = this.#sealer;
    if (sealer === undefined) throw new Error("no session: call handshake() first");
    const records: Buffer[] = [];
    for (let at = 0; at < bytes.length; at += MAX_RECORD_PLAINTEXT_BYTES) {
      const piece = bytes.subarray(at, Math.min(at + MAX_RECORD_PLAINTEXT_BYTES, bytes.length));
      records.push(...sealer.seal([piece], piece.length));
    }
    return Buffer.concat(records);
  }

  /**
   * Runs the client's side of the handshake [H-PATTERN]: waits for HELLO, sends the
   * preamble and message 1, and waits for message 2 (or a refusal, which rejects).
   */
  async handshake(masterKey: Uint8Array): Promise<SessionKeys> {
    await this.hello();
    const helloFrame = this.frames[0]!;
    const initiator = new SessionInitiator({
      masterKey,
      prologue: sessionPrologue(
        preamble(),
        preamble(),
        encodeFrame(helloFrame.type, helloFrame.payload),
      ),
    });
    await this.write(Buffer.concat([preamble(), frame(FrameType.HANDSHAKE, initiator.message1)]));
    await this.until(() => this.frames.length > 1, "the handshake's message 2");
    const answer = this.frames[1]!;
    if (answer.type !== FrameType.HANDSHAKE) {
      throw new Error(`the server answered ${JSON.stringify(readError(answer))}`);
    }
    const keys = initiator.finish(answer.payload);
    this.keys = keys;
    this.#sealer = new RecordSealer(keys.send);
    this.#opener = new RecordOpener(keys.receive);
    for (const bytes of this.#parser.takeBuffered()) this.#receive(bytes);
    return keys;
  }

  /** Half-closes our side (FIN). */
  end(): void {
    this.socket.end();
  }

  /**
   * Resolves when `condition()` holds; it is re-checked on every data and close event.
   * Rejects when the socket closed with the condition still false, or after `ms`.
   */
  async until(condition: () => boolean, what: string, ms = WAIT_MS): Promise<void> {
    if (condition()) return;
    await within(
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (condition()) {
            this.#waiters.delete(check);
            resolve();
          } else if (this.isClosed) {
            this.#waiters.delete(check);
            reject(new Error(`the connection closed before ${what}`));
          }
        };
        this.#waiters.add(check);
      }),
      ms,
      what,
    );
  }

  /** Waits for the server's preamble and HELLO. */
  async hello(ms = WAIT_MS): Promise<Hello> {
    await this.until(() => this.frames.length > 0, "HELLO", ms);
    const first = this.frames[0]!;
    if (first.type !== FrameType.HELLO) throw new Error(`first frame is type ${first.type}`);
    return decodeHello(first.payload);
  }

  /** ERROR frames received so far, decoded. */
  errors(): ErrorMessage[] {
    return this.frames.filter((f) => f.type === FrameType.ERROR).map((f) => decodeError(f.payload));
  }

  /** RECEIPT and ERROR frames (the per-item answers and connection errors), in order. */
  answers(): Frame[] {
    return this.frames.filter((f) => f.type === FrameType.RECEIPT || f.type === FrameType.ERROR);
  }

  /** Waits for at least `n` RECEIPT/ERROR frames. */
  async waitAnswers(n: number, ms = WAIT_MS): Promise<Frame[]> {
    await this.until(() => this.answers().length >= n, `${n} answer frame(s)`, ms);
    return this.answers();
  }

  /** Waits for an ERROR frame matching `match`. */
  async waitError(
    match: (e: ErrorMessage) => boolean = () => true,
    ms = WAIT_MS,
  ): Promise<ErrorMessage> {
    await this.until(() => this.errors().some(match), "an ERROR frame", ms);
    return this.errors().find(match)!;
  }

  /** Waits until the server (or the network) closed the connection. */
  async waitClosed(ms = WAIT_MS): Promise<void> {
    await within(this.closed, ms, "the connection to close");
  }

  destroy(): void {
    this.socket.destroy();
  }

  #receive(bytes: Buffer): void {
    let plaintexts: Buffer[] = [bytes];
    if (this.#opener !== undefined) {
      if (this.#opener.failure !== undefined) return;
      plaintexts = this.#opener.push(bytes);
      this.recordError ??= this.#opener.failure;
    }
    for (const plaintext of plaintexts) this.#parser.push(plaintext);
    try {
      for (let unit = this.#parser.next(); unit !== undefined; unit = this.#parser.next()) {
        if (unit.kind === "preamble") this.serverVersion = unit.version;
        else this.frames.push(unit.frame);
      }
    } catch (error) {
      this.parseError ??= error;
    }
  }

  #notify(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}

/**
 * With `ts` started with maxConnections 1: a first raw peer gets its HELLO and
 * holds the only slot; a second sends its preamble and waits until the server closed it.
 */
export async function connectOverLimit(
  resources: Resources,
  ts: Pick<TestServer, "port">,
): Promise<{ first: RawPeer; second: RawPeer }> {
  const first = await RawPeer.connect(resources, ts.port);
  await first.write(preamble());
  await first.hello();
  const second = await RawPeer.connect(resources, ts.port);
  await second.write(preamble());
  await second.waitClosed();
  return { first, second };
}

// ---------------------------------------------------------------------------------------
// Building wire bytes
// ---------------------------------------------------------------------------------------

export function preamble(version: number = PROTOCOL_VERSION): Buffer {
  return encodePreamble(version);
}

export function frame(type: number, payload: Uint8Array = Buffer.alloc(0)): Buffer {
  return encodeFrame(type, payload);
}

/** A bare 5-byte frame header declaring `length` payload bytes (nothing follows). */
export function frameHeader(type: number, length: number): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt8(type, 0);
  header.writeUInt32BE(length, 1);
  return header;
}

/** An ITEM frame. */
export function plainItemFrame(id: number, meta: ItemMeta | BatchMeta): Buffer {
  const header = meta.kind === "files" ? { id, meta } : { id, meta };
  return frame(FrameType.ITEM, Buffer.from(itemHeaderText(header)));
}

/**
 * A session left mid-item: the preamble, the ITEM (id 1) of a plaintext file `name` of
 * `size` bytes, and one CHUNK of `sent` random bytes (fewer than `size`).
 */
export function fileItemInFlight(name: string, size: number, sent: number): Buffer {
  return Buffer.concat([
    preamble(),
    plainItemFrame(1, { kind: "file", name, size }),
    frame(FrameType.CHUNK, randomBytes(sent)),
  ]);
}

/** Cuts `data` into chunk plaintexts of `size` bytes (the last may be shorter or empty). */
export function cut(data: Uint8Array, size: number = MAX_CHUNK_FRAME_BYTES): Buffer[] {
  const view = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const pieces: Buffer[] = [];
  for (let offset = 0; offset < view.length; offset += size) {
    pieces.push(view.subarray(offset, Math.min(offset + size, view.length)));
  }
  return pieces;
}

/**
 * CHUNK frames for all pieces but the last, then a LAST_CHUNK with the last piece (an
 * empty LAST_CHUNK when `pieces` is empty).
 */
export function chunkFrames(pieces: readonly Uint8Array[]): Buffer {
  if (pieces.length === 0) return frame(FrameType.LAST_CHUNK);
  return Buffer.concat(
    pieces.map((piece, i) =>
      frame(i === pieces.length - 1 ? FrameType.LAST_CHUNK : FrameType.CHUNK, piece),
    ),
  );
}

/** A whole plaintext file item: ITEM, then its data in chunks of `chunkSize`. */
export function plainFileItem(
  id: number,
  name: string,
  data: Uint8Array,
  options: { size?: number | null; chunkSize?: number } = {},
): Buffer {
  const meta: ItemMeta = {
    kind: "file",
    name,
    size: options.size === undefined ? data.length : options.size,
  };
  return Buffer.concat([plainItemFrame(id, meta), chunkFrames(cut(data, options.chunkSize))]);
}

/** A whole plaintext dictionary item carrying `bytes` as its serialized form. */
export function plainDictItem(
  id: number,
  name: string,
  format: "json" | "msgpack" | "xml",
  bytes: Uint8Array,
): Buffer {
  return Buffer.concat([
    plainItemFrame(id, { kind: "dict", format, name, size: bytes.length }),
    chunkFrames(cut(bytes)),
  ]);
}

/** A decoded RECEIPT frame: its id and body. */
export function readReceipt(f: Frame): { id: number; body: ReceiptBody } {
  if (f.type !== FrameType.RECEIPT) {
    const detail = f.type === FrameType.ERROR ? JSON.stringify(decodeError(f.payload)) : "";
    throw new Error(`expected a RECEIPT frame, got type ${f.type} ${detail}`);
  }
  const message = decodeReceipt(f.payload);
  return { id: message.id, body: message.receipt };
}

/** A decoded ERROR frame (throws if `f` is not one). */
export function readError(f: Frame): ErrorMessage {
  if (f.type !== FrameType.ERROR) throw new Error(`expected an ERROR frame, got type ${f.type}`);
  return decodeError(f.payload);
}

// ---------------------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------------------

/** Sorted entries of `dir` (empty when it does not exist). */
export async function listDir(dir: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort();
  } catch (error) {
    if (error instanceof Error && "code" in error && error.code === "ENOENT") return [];
    throw error;
  }
}

export function isTempName(name: string): boolean {
  return name.startsWith(TEMP_FILE_PREFIX) && name.endsWith(TEMP_FILE_SUFFIX);
}

/** Entries of `dir` that are gb-transfer temporary files. */
export async function tempFiles(dir: string): Promise<string[]> {
  return (await listDir(dir)).filter(isTempName);
}

/** Entries of `dir` that are stored items (not temporary files). */
export async function storedFiles(dir: string): Promise<string[]> {
  return (await listDir(dir)).filter((name) => !isTempName(name));
}

/** Waits (bounded) until `dir` holds exactly one temporary file: an item being written. */
export async function waitForTempFile(dir: string): Promise<void> {
  await vi.waitFor(
    async () => {
      expect(await tempFiles(dir)).toHaveLength(1);
    },
    { timeout: 2000, interval: 5 },
  );
}

/**
 * Waits (bounded) until `dir` holds no gb-transfer temporary file. A failed item's temp
 * file is removed asynchronously after the failure is reported, hence the wait.
 */
export async function expectNoTempFiles(dir: string, ms = 2_000): Promise<void> {
  await vi.waitFor(
    async () => {
      const left = await tempFiles(dir);
      if (left.length > 0) throw new Error(`temporary files remain: ${left.join(", ")}`);
    },
    { timeout: ms, interval: 10 },
  );
}
