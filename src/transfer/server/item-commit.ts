import path from "node:path";
import type { PrintableDict } from "../../codecs/dict-printable.js";
import type { DictObject } from "../../codecs/dict-value.js";
import { sha256Hex } from "../../crypto/sha256-hex.js";
import { ErrorCode, IntegrityError, InternalError } from "../../errors.js";
import type { ReceiptBody } from "../../protocol/messages.js";
import { decodeReceivedDict, type DecodedDict } from "./decode-received-dict.js";
import type { InboundItem } from "./inbound-item.js";
import type { FileNamingTurn, ItemStore, PendingFile, StoredDigest } from "./item-store.js";
import type { Peer, ReceivedItem, SessionInfo } from "./received-item.js";
import { safeName } from "./safe-name.js";
import type { SessionContext } from "./session-context.js";
import type { SmallFileWriter } from "./small-file-writer.js";
import type { TreePlacement } from "./tree-placement.js";

/** What committing an item needs from the server. */
export type CommitContext = Pick<
  SessionContext,
  | "store"
  | "smallFiles"
  | "dictLimits"
  | "dictWants"
  | "dictPool"
  | "inlineDictBytes"
  | "holdDictBytes"
>;

/** A complete item, verified and stored: what to answer, and what to report. */
export interface CommittedItem {
  /** What the RECEIPT says [M-RECEIPT]: its own, or its file's in a batch's [T-BATCH-RECEIPT]. */
  readonly receipt: ReceiptBody;
  /** The item as the server's listeners see it. */
  readonly received: ReceivedItem;
}

const NO_BYTES = new Uint8Array(0);

/** What the listeners get of a dictionary: nothing of it for a file. */
const NO_DICT: DecodedDict | undefined = undefined;

/**
 * Verifies an item whose LAST_CHUNK has arrived (its size [V-SIZE], a dictionary's
 * decoding), stores it under its final name [V-ATOMIC] and builds its receipt and report.
 * Synchronous (no promise, no wait) when there is nothing to wait for: on a server that
 * does not save, for a dictionary small enough to decode on the event loop
 * [V-DICT-WORK]; a larger one is decoded, checked and rendered by a worker.
 *
 * A failure leaves the item's resources to the caller, which ends the item.
 *
 * @throws {IntegrityError} SIZE_MISMATCH when fewer bytes arrived than were declared.
 * @throws {CodecError} DICT_INVALID, DICT_TOO_LARGE, DICT_TOO_DEEP for a dictionary.
 * @throws {StorageError} STORAGE_FAILED (the promise rejects) when it cannot be stored.
 */
export function commitItem(
  item: InboundItem,
  context: CommitContext,
  peer: Peer,
  session: SessionInfo,
  tree: TreePlacement,
  turn: NamingTurn,
): CommittedItem | Promise<CommittedItem> {
  // [V-GROUP] However the commit ends, the next item gets its turn to be named: at once
  // when nothing is named, right after the naming otherwise (the store hands it on).
  let outcome: CommittedItem | Promise<CommittedItem>;
  try {
    outcome = commitInTurn(item, context, peer, session, tree, turn);
  } catch (error) {
    turn.handOn();
    throw error;
  }
  if (outcome instanceof Promise) return turn.named(outcome);
  turn.handOn();
  return outcome;
}

function commitInTurn(
  item: InboundItem,
  context: CommitContext,
  peer: Peer,
  session: SessionInfo,
  tree: TreePlacement,
  turn: NamingTurn,
): CommittedItem | Promise<CommittedItem> {
  const meta = item.meta;
  if (meta.size !== null && item.bytes !== meta.size) {
    throw new IntegrityError(
      ErrorCode.SIZE_MISMATCH,
      `the item ended after ${item.bytes} of the declared ${meta.size} bytes`,
    );
  }
  const sha256 = item.sha256();
  const store = context.store;
  const done = (
    dict: DecodedDict | undefined,
    savedAs: string | null,
    storedSha256?: string,
  ): CommittedItem =>
    committed(item, peer, session, sha256, dict, { savedAs, storedSha256 }, store, context);
  if (meta.kind === "dir") {
    const place = item.place;
    if (store === null || place === null) return done(NO_DICT, null);
    const smallFiles = context.smallFiles;
    if (smallFiles !== null) {
      // [T-MTIME] after everything in the directory, in the writer's order: the small
      // files after it need not wait for it.
      const finishing = inWriterTurn(turn, () =>
        smallFiles.store({
          kind: "dir",
          directory: place.absolute,
          relative: place.relative,
          baseName: "",
          data: NO_BYTES,
          exec: null,
          mtimeMs: meta.entry.mtimeMs,
          resumed: false,
        }),
      );
      return finishing.then(() => done(NO_DICT, place.relative));
    }
    // [T-MTIME] everything in the directory has been named (the turns before this one):
    // its time is final now.
    return turn
      .named(turn.wait.then(() => tree.finishDirectory(place, meta.entry.mtimeMs)))
      .then(() => done(NO_DICT, place.relative));
  }
  if (meta.kind === "file") {
    if (store === null) return done(NO_DICT, null);
    const smallFiles = context.smallFiles;
    if (item.holdsFile && smallFiles !== null) {
      return storeSmallFile(item, smallFiles, turn).then((savedAs) => done(NO_DICT, savedAs));
    }
    // [RES-JOURNAL] an entry of a tree that resumes may find itself stored already.
    const stored =
      item.journal?.resumed === true && meta.size !== null
        ? { size: meta.size, sha256 }
        : undefined;
    return nameFile(item, store, turn, stored).then((savedAs) => done(NO_DICT, savedAs));
  }
  if (item.bytes > context.inlineDictBytes) {
    return decodeInWorker(item, context, turn).then(({ dict, savedAs, storedSha256 }) =>
      done(dict, savedAs, storedSha256),
    );
  }
  // [V-DICT-WORK] Small enough that a worker's round trip would cost more than decoding.
  let stored: Buffer[] = [];
  const dict = decodeReceivedDict(
    item.dictBytes(),
    meta.format,
    context.dictLimits,
    context.dictWants,
    store === null
      ? null
      : {
          write: (text) => stored.push(Buffer.from(text, "utf8")),
          restart: () => {
            stored = [];
          },
        },
  );
  if (store === null) return done(dict, null);
  // [M-RECEIPT-STORED] The stored bytes are not the ones that travelled: their own digest.
  const storedSha256 = sha256Hex(Buffer.concat(stored));
  return storeText(item, store, stored, turn).then((savedAs) => done(dict, savedAs, storedSha256));
}

/**
 * An item's turn to be named [V-GROUP]: items are flushed side by side but named in item
 * order, so `wait` resolves once the item before has its name; `named` passes its own
 * naming on and hands the turn to the next item, however the naming ends.
 */
export interface NamingTurn extends FileNamingTurn {
  named<T>(naming: Promise<T>): Promise<T>;
  /**
   * Resolves once the item before has its name, or is queued in the small-file writer,
   * which names files in the order it is given them: a small file may join it then.
   */
  readonly queued: Promise<void>;
  /** This item is queued in the small-file writer: a small file after it may join. */
  handOnQueued(): void;
}

/** Hands out the naming turns of one connection's items, in item order [V-GROUP]. */
export class NamingOrder {
  #tail: Promise<void> = Promise.resolve();
  #queuedTail: Promise<void> = Promise.resolve();

  /** The turn of the next item: after every turn handed out before it. */
  next(): NamingTurn {
    const wait = this.#tail;
    const queued = this.#queuedTail;
    let handOnNamed!: () => void;
    let handOnQueued!: () => void;
    this.#tail = new Promise((resolve) => {
      handOnNamed = resolve;
    });
    this.#queuedTail = new Promise((resolve) => {
      handOnQueued = resolve;
    });
    // Resolving twice is harmless: the next item waits for the first. A name made is
    // also a name queued.
    const handOn = (): void => {
      handOnQueued();
      handOnNamed();
    };
    return {
      wait,
      handOn,
      queued,
      handOnQueued,
      named: <T>(naming: Promise<T>): Promise<T> => {
        naming.then(handOn, handOn);
        return naming;
      },
    };
  }
}

/**
 * Gives the item's file (written) its final name in its turn, then makes the name
 * durable: one directory sync for every name made meanwhile [V-GROUP]. Returns the name
 * relative to the save directory (a file of a tree: with its directories [T-PLACE]).
 */
async function nameFile(
  item: InboundItem,
  store: ItemStore,
  turn: NamingTurn,
  stored?: StoredDigest,
): Promise<string> {
  const { name, directory } = await turn.named(item.commitFile(turn, stored));
  await store.syncDirectory(directory);
  const place = item.place;
  return place === null ? name : `${place.relative}/${name}`;
}

/**
 * Stores a small file the session held in memory, through the small-file writer, which
 * writes, flushes and names it and flushes its directory [V-GROUP]. It joins the writer's
 * queue once the items before it are named or queued there too, so that a run of small
 * files is named in item order without waiting for each other.
 */
async function storeSmallFile(
  item: InboundItem,
  smallFiles: SmallFileWriter,
  turn: NamingTurn,
): Promise<string> {
  const meta = item.meta;
  const entry = meta.kind === "file" ? meta.entry : undefined;
  const place = item.place;
  const name = await inWriterTurn(turn, () =>
    smallFiles.store({
      kind: "file",
      directory: place?.absolute ?? smallFiles.saveDirectory,
      relative: place?.relative ?? null,
      baseName: safeName(meta.name, "file"),
      data: item.fileBytes(),
      exec: entry?.exec ?? null,
      mtimeMs: entry?.mtimeMs ?? null,
      resumed: item.journal?.resumed === true,
    }),
  );
  return place === null ? name : `${place.relative}/${name}`;
}

/**
 * Gives a job to the small-file writer in the item's turn: once the items before it are
 * named or queued in the writer (which keeps their order), and lets the next item queue
 * there as soon as this one is.
 */
async function inWriterTurn(turn: NamingTurn, start: () => Promise<string>): Promise<string> {
  await turn.queued;
  let naming: Promise<string>;
  try {
    naming = start();
  } finally {
    turn.handOnQueued();
  }
  return turn.named(naming);
}

/** Writes a small dictionary's stored text, then names the file. */
async function storeText(
  item: InboundItem,
  store: ItemStore,
  text: Buffer[],
  turn: NamingTurn,
): Promise<string> {
  const file = await store.begin(safeName(item.meta.name, "dict"));
  void item.attachFile(file);
  const pending = file.write(text);
  if (pending !== undefined) await pending;
  return nameFile(item, store, turn);
}

/**
 * Has a worker decode the dictionary and write its stored text straight into the item's
 * temporary file, then names the file. Its wire bytes move to the worker; they stay
 * counted against the server's dictionary budget until the item ends.
 */
async function decodeInWorker(
  item: InboundItem,
  context: CommitContext,
  turn: NamingTurn,
): Promise<{ dict: DecodedDict; savedAs: string | null; storedSha256: string | undefined }> {
  const meta = item.meta;
  if (meta.kind !== "dict") throw new InternalError(ErrorCode.INTERNAL, "not a dictionary");
  const store = context.store;
  let file: PendingFile | undefined;
  if (store !== null) {
    file = await store.begin(safeName(meta.name, "dict"));
    void item.attachFile(file);
    // The item ended (its connection closed) while its file was being made.
    if (item.released) throw new InternalError(ErrorCode.INTERNAL, "the item has ended");
  }
  const outcome = await context.dictPool.run(
    {
      bytes: item.takeDictBytes(),
      format: meta.format,
      limits: context.dictLimits,
      fd: file?.fd ?? null,
      ...context.dictWants,
    },
    item.endedSignal,
  );
  // The text handed to listeners is held until the item ends, like its wire bytes.
  if (outcome.jsonText !== undefined) item.hold(context.holdDictBytes(outcome.jsonText.length * 2));
  const savedAs = store === null ? null : await nameFile(item, store, turn);
  return { dict: outcome, savedAs, storedSha256: outcome.storedSha256 ?? undefined };
}

function committed(
  item: InboundItem,
  peer: Peer,
  session: SessionInfo,
  sha256: string,
  dict: DecodedDict | undefined,
  stored: { readonly savedAs: string | null; readonly storedSha256: string | undefined },
  store: ItemStore | null,
  context: CommitContext,
): CommittedItem {
  const { savedAs, storedSha256 } = stored;
  const meta = item.meta;
  const body: ReceiptBody = {
    kind: meta.kind,
    name: meta.name,
    bytes: item.bytes,
    sha256,
    savedAs,
    ...(storedSha256 === undefined ? {} : { storedSha256 }),
  };
  const value: DictObject | undefined = context.dictWants.value ? dict?.value : undefined;
  const printable: PrintableDict | undefined = dict?.printable;
  return {
    receipt: body,
    // No spread of the peer: a literal that starts with a spread defines every later
    // member the slow way.
    received: {
      connectionId: peer.connectionId,
      remote: peer.remote,
      id: item.id,
      kind: meta.kind,
      name: meta.name,
      format: meta.kind === "dict" ? meta.format : undefined,
      encrypted: session.encrypted,
      session,
      bytes: item.bytes,
      sha256,
      savedAs,
      savedPath: savedAs === null || store === null ? null : path.join(store.directory, savedAs),
      value,
      printable,
      jsonText: dict?.jsonText,
      preview: item.preview(),
    },
  };
}
