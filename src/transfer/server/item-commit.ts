import path from "node:path";
import { decodeDict } from "../../codecs/dict-format.js";
import type { DictObject } from "../../codecs/dict-value.js";
import { ErrorCode, IntegrityError } from "../../errors.js";
import { receiptText, type ReceiptBody } from "../../protocol/messages.js";
import { formatStoredDict } from "./format-stored-dict.js";
import type { InboundItem } from "./inbound-item.js";
import type { FileNamingTurn, ItemStore } from "./item-store.js";
import type { Peer, ReceivedItem, SessionInfo } from "./received-item.js";
import { safeName } from "./safe-name.js";
import type { SessionContext } from "./session-context.js";
import type { TreePlacement } from "./tree-placement.js";

/** What committing an item needs from the server. */
export type CommitContext = Pick<SessionContext, "store" | "dictLimits">;

/** A complete item, verified and stored: what to answer, and what to report. */
export interface CommittedItem {
  /** The RECEIPT frame's payload [M-RECEIPT]. */
  readonly receiptText: string;
  /** The item as the server's listeners see it. */
  readonly received: ReceivedItem;
}

/**
 * Verifies an item whose LAST_CHUNK has arrived (its size [V-SIZE], a dictionary's
 * decoding), stores it under its final name [V-ATOMIC] and builds its receipt and report.
 * Synchronous (no promise, no wait) when there is nothing to write: on a server that
 * does not save.
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
  const meta = item.meta;
  if (meta.size !== null && item.bytes !== meta.size) {
    throw new IntegrityError(
      ErrorCode.SIZE_MISMATCH,
      `the item ended after ${item.bytes} of the declared ${meta.size} bytes`,
    );
  }
  const sha256 = item.sha256();
  let value: DictObject | undefined;
  if (meta.kind === "dict") {
    value = decodeDict(item.dictBytes(), meta.format, context.dictLimits);
    item.releaseDict();
  }
  const store = context.store;
  if (store === null) return committed(item, peer, session, sha256, value, null, null);
  const place = item.place;
  if (meta.kind === "dir") {
    if (place === null) return committed(item, peer, session, sha256, value, null, null);
    // [T-MTIME] everything in the directory has been named (the turns before this one):
    // its time is final now.
    return turn
      .named(turn.wait.then(() => tree.finishDirectory(place, meta.entry.mtimeMs)))
      .then(() => committed(item, peer, session, sha256, value, place.relative, place.absolute));
  }
  return storeItem(item, store, value, turn).then(({ name, directory }) =>
    place === null
      ? committed(item, peer, session, sha256, value, name, path.join(directory, name))
      : committed(
          item,
          peer,
          session,
          sha256,
          value,
          `${place.relative}/${name}`,
          path.join(directory, name),
        ),
  );
}

/**
 * An item's turn to be named [V-GROUP]: items are flushed side by side but named in item
 * order, so `wait` resolves once the item before has its name; `named` passes its own
 * naming on and hands the turn to the next item, however the naming ends.
 */
export interface NamingTurn extends FileNamingTurn {
  named<T>(naming: Promise<T>): Promise<T>;
}

/** Hands out the naming turns of one connection's items, in item order [V-GROUP]. */
export class NamingOrder {
  #tail: Promise<void> = Promise.resolve();

  /** The turn of the next item: after every turn handed out before it. */
  next(): NamingTurn {
    const wait = this.#tail;
    let handOn!: () => void;
    this.#tail = new Promise((resolve) => {
      handOn = resolve;
    });
    // Resolving twice is harmless: the next item waits for the first.
    return {
      wait,
      handOn,
      named: <T>(naming: Promise<T>): Promise<T> => {
        naming.then(handOn, handOn);
        return naming;
      },
    };
  }
}

/**
 * Writes a dictionary out (a file's data is already written), names the file in its
 * turn, then makes the name durable: one directory sync for every name made meanwhile
 * [V-GROUP].
 */
async function storeItem(
  item: InboundItem,
  store: ItemStore,
  value: DictObject | undefined,
  turn: NamingTurn,
): Promise<{ name: string; directory: string }> {
  let stored: { name: string; directory: string };
  try {
    if (value !== undefined) {
      const file = await store.begin(safeName(item.meta.name, "dict"));
      item.attachFile(file);
      const pending = file.write([formatStoredDict(value, item.bytes)]);
      if (pending !== undefined) await pending;
    }
    stored = await turn.named(item.commitFile(turn));
  } catch (error) {
    // A failure before the naming still hands the turn on.
    await turn.named(Promise.resolve());
    throw error;
  }
  await store.syncDirectory(stored.directory);
  return stored;
}

function committed(
  item: InboundItem,
  peer: Peer,
  session: SessionInfo,
  sha256: string,
  value: DictObject | undefined,
  savedAs: string | null,
  savedPath: string | null,
): CommittedItem {
  const meta = item.meta;
  const body: ReceiptBody = {
    kind: meta.kind,
    name: meta.name,
    bytes: item.bytes,
    sha256,
    savedAs,
  };
  return {
    receiptText: receiptText({ id: item.id, receipt: body }),
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
      savedPath,
      value,
      preview: item.preview(),
    },
  };
}
