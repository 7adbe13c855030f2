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
import { ChunkSealer } from "../../src/crypto/chunk-sealer.js";
import { CHUNK_PLAINTEXT_BYTES } from "../../src/crypto/constants.js";
import { deriveItemKeys, newItemSalt, type ItemKeys } from "../../src/crypto/item-keys.js";
import { sealOnce, openOnce } from "../../src/crypto/seal-once.js";
import { FrameParser } from "../../src/framing/frame-parser.js";
import { encodeFrame, type Frame } from "../../src/framing/frame.js";
import { encodePreamble } from "../../src/framing/preamble.js";
import { FrameType, PROTOCOL_VERSION, SERVER_FRAME_LIMITS } from "../../src/protocol/constants.js";
import {
  decodeError,
  decodeHello,
  decodeReceipt,
  decodeReceiptBody,
  encodeMeta,
  itemHeaderText,
  type ErrorMessage,
  type Hello,
  type ItemMeta,
  type ReceiptBody,
} from "../../src/protocol/messages.js";
import { GbClient, type ClientOptions } from "../../src/transfer/client.js";
import { TEMP_FILE_PREFIX, TEMP_FILE_SUFFIX } from "../../src/transfer/server/item-store.js";
import type { ItemFailure, ReceivedItem } from "../../src/transfer/server/received-item.js";
import { GbServer, type ServerOptions } from "../../src/transfer/server.js";
import { withTimeout } from "../support/with-timeout.js";

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

/** Sends one small dictionary with a fresh GbClient and checks the server stored it. */
export async function expectServerHealthy(resources: Resources, ts: TestServer): Promise<void> {
  const client = await connectClient(resources, ts, { encryption: { key: ts.masterKey } });
  const value = { healthy: true, nonce: randomBytes(8).toString("hex") };
  const [plain, sealed] = await Promise.all([
    client.sendDict(value, { format: "json", name: "health.json" }),
    client.sendDict(value, { format: "msgpack", name: "health.json", encrypt: true }),
  ]);
  await client.close();
  for (const sent of [plain, sealed]) {
    if (sent.receipt.sha256 !== sent.sha256) throw new Error("health check receipt mismatch");
    if (ts.saveDir !== null && sent.receipt.savedAs === null) {
      throw new Error("health check item was not saved");
    }
  }
}

// ---------------------------------------------------------------------------------------
// Raw protocol peers
// ---------------------------------------------------------------------------------------

/**
 * A client socket speaking the protocol by hand. Every byte the server sends is parsed
 * with FrameParser (SERVER_FRAME_LIMITS); waits resolve on socket events, never on timers.
 */
export class RawPeer {
  readonly socket: net.Socket;
  readonly #parser = new FrameParser(SERVER_FRAME_LIMITS, { expectPreamble: true });
  /** The server's preamble version, once received. */
  serverVersion: number | undefined;
  /** Frames received from the server, in order. */
  readonly frames: Frame[] = [];
  /** A parse error in what the server sent (always a failure of the server). */
  parseError: unknown;
  /** A socket error (for example ECONNRESET), if one happened. */
  socketError: Error | undefined;
  bytesReceived = 0;
  isClosed = false;
  readonly closed: Promise<void>;
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
      this.#parser.push(chunk);
      try {
        for (let unit = this.#parser.next(); unit !== undefined; unit = this.#parser.next()) {
          if (unit.kind === "preamble") this.serverVersion = unit.version;
          else this.frames.push(unit.frame);
        }
      } catch (error) {
        this.parseError ??= error;
      }
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

  /** Writes `bytes`; resolves once they were handed to the OS. */
  write(bytes: Uint8Array): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.write(bytes, (error) => {
        if (error) reject(error);
        else resolve();
      });
    });
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

  #notify(): void {
    for (const waiter of [...this.#waiters]) waiter();
  }
}

/**
 * With `ts` started with maxConnections 1: a first raw peer completes the handshake and
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

/** A plaintext ITEM frame. */
export function plainItemFrame(id: number, meta: ItemMeta): Buffer {
  return frame(FrameType.ITEM, Buffer.from(itemHeaderText({ id, encrypted: false, meta })));
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
export function cut(data: Uint8Array, size: number = CHUNK_PLAINTEXT_BYTES): Buffer[] {
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

/** One sealed chunk as produced by ChunkSealer, with the flag it was sealed with. */
export interface SealedChunk {
  readonly sealed: Buffer;
  readonly last: boolean;
}

export interface EncryptedItem {
  readonly keys: ItemKeys;
  /** The ITEM frame (sealed metadata). */
  readonly itemFrame: Buffer;
  /** The chunks, sealed in order with the right final flags. */
  readonly chunks: SealedChunk[];
}

/**
 * Builds an encrypted item under `masterKey`, the way a correct client does. Tests then
 * put the chunks on the wire as they like (tampered, reordered, ...).
 * `lastFlags` overrides the flag each chunk is sealed with; `salt` replaces the fresh one.
 */
export function encryptedItem(
  masterKey: Uint8Array,
  id: number,
  meta: ItemMeta,
  data: Uint8Array,
  options: { chunkSize?: number; lastFlags?: readonly boolean[]; salt?: Buffer } = {},
): EncryptedItem {
  const salt = options.salt ?? newItemSalt();
  const keys = deriveItemKeys(masterKey, salt);
  const itemFrame = frame(
    FrameType.ITEM,
    Buffer.from(
      itemHeaderText({
        id,
        encrypted: true,
        salt,
        sealedMeta: sealOnce(keys.metaKey, encodeMeta(meta)),
      }),
    ),
  );
  const pieces = cut(data, options.chunkSize);
  if (pieces.length === 0) pieces.push(Buffer.alloc(0));
  const sealer = new ChunkSealer(keys.payloadKey, keys.baseNonce);
  const chunks = pieces.map((piece, i) => {
    const last = options.lastFlags?.[i] ?? i === pieces.length - 1;
    if (sealer.finished) throw new Error("cannot seal after a final chunk");
    return { sealed: Buffer.concat(sealer.seal(piece, last)), last };
  });
  return { keys, itemFrame, chunks };
}

/** Frames the given sealed chunks: CHUNK for all but the last, which goes in LAST_CHUNK. */
export function sealedChunkFrames(chunks: readonly Buffer[]): Buffer {
  return Buffer.concat(
    chunks.map((sealed, i) =>
      frame(i === chunks.length - 1 ? FrameType.LAST_CHUNK : FrameType.CHUNK, sealed),
    ),
  );
}

/** A decoded RECEIPT frame: its id and plaintext body (opened with `keys` when sealed). */
export function readReceipt(f: Frame, keys?: ItemKeys): { id: number; body: ReceiptBody } {
  if (f.type !== FrameType.RECEIPT) {
    const detail = f.type === FrameType.ERROR ? JSON.stringify(decodeError(f.payload)) : "";
    throw new Error(`expected a RECEIPT frame, got type ${f.type} ${detail}`);
  }
  const message = decodeReceipt(f.payload);
  if (!message.encrypted) return { id: message.id, body: message.receipt };
  if (keys === undefined) throw new Error("a sealed receipt needs the item keys");
  return {
    id: message.id,
    body: decodeReceiptBody(openOnce(keys.receiptKey, message.sealedReceipt)),
  };
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
