import type { DictFormat } from "../../codecs/dict-format.js";
import type { PrintableDict } from "../../codecs/dict-printable.js";
import type { DictObject } from "../../codecs/dict-value.js";
import type { ItemKind } from "../../protocol/messages.js";
import type { SessionInfo } from "../session-info.js";

export type { SessionInfo } from "../session-info.js";

/** Who sent an item: one TCP connection. */
export interface Peer {
  /** Sequence number of the connection since the server started, from 1. */
  readonly connectionId: number;
  /** "address:port" of the client. */
  readonly remote: string;
}

/** How far along an item being received is. */
export interface InboundProgress extends Peer {
  /** The item's id within its connection. */
  readonly id: number;
  /** The name the client gave; untrusted text from the network. */
  readonly name: string;
  /** Bytes received so far. */
  readonly bytes: number;
  /** The size the client declared; null when it did not (standard input). */
  readonly size: number | null;
}

/** An item the server received completely and verified. */
export interface ReceivedItem extends Peer {
  /** The item's id within its connection. */
  readonly id: number;
  readonly kind: ItemKind;
  /** The name the client gave; untrusted text from the network. */
  readonly name: string;
  /** Wire format of a dictionary; undefined for files. */
  readonly format: DictFormat | undefined;
  /** True when the item came over an encrypted session ({@link session}). */
  readonly encrypted: boolean;
  /** The connection's session: encrypted or not, and its fingerprint. */
  readonly session: SessionInfo;
  /** Bytes received and their SHA-256 (lower-case hex). */
  readonly bytes: number;
  readonly sha256: string;
  /** Stored base name in the save directory, and its absolute path; null when not saved. */
  readonly savedAs: string | null;
  readonly savedPath: string | null;
  /**
   * The decoded dictionary (dictionaries only, on a server started with `dictValues:
   * true`), exact: members in the order written, integers as bigints, floats as numbers.
   */
  readonly value: DictObject | undefined;
  /**
   * A dictionary's first lines, laid out as it is stored, as tokens to show (dictionaries
   * only, unless the server was started with `dictPrintable: false`): small whatever the
   * dictionary.
   */
  readonly printable: PrintableDict | undefined;
  /**
   * A dictionary's compact JSON text, exact (dictionaries only, on a server started with
   * `dictJsonText: true`).
   */
  readonly jsonText: string | undefined;
  /** The first bytes of a file, kept for display (files only, when previews are on). */
  readonly preview: Buffer | undefined;
}

/** An item, or a connection, that failed. Nothing of a failed item is stored. */
export interface ItemFailure extends Peer {
  /** The item's id, or undefined when the failure ended the whole connection. */
  readonly id: number | undefined;
  readonly name: string | undefined;
  readonly code: string;
  readonly message: string;
  /**
   * The connection's session as far as it got: a failure before the handshake finished
   * (or on a plain connection) is `{ encrypted: false, fingerprint: null }`.
   */
  readonly session: SessionInfo;
}
