import type { DictFormat } from "../../codecs/dict-format.js";
import type { ItemKind, ReceiptBody } from "../../protocol/messages.js";

export type { SessionInfo } from "../session-info.js";

/** How long to wait for the TCP connection and the server's HELLO. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** A connection on which the server says nothing for this long, while we wait, fails. */
export const DEFAULT_RESPONSE_TIMEOUT_MS = 60_000;
/**
 * How long `GbClient.close` waits for the server to close the connection after our end
 * of it is closed; then the socket is destroyed.
 */
export const CLOSE_TIMEOUT_MS = 5_000;

/** Where the encryption key comes from: the key itself, or a passphrase (scrypt). */
export type KeySource = { readonly key: Uint8Array } | { readonly passphrase: string };

export interface ClientOptions {
  readonly host?: string;
  readonly port?: number;
  /**
   * The key: given, the connection is a Noise session, encrypted and authenticated, and
   * the handshake proves that both sides hold the same key [H-PATTERN]. Left out, the
   * connection is plain, which a server allows only under its policy [H-POLICY].
   */
  readonly encryption?: KeySource;
  readonly connectTimeoutMs?: number;
  readonly responseTimeoutMs?: number;
  /** Bound on how long `GbClient.close` waits for the server to close; default {@link CLOSE_TIMEOUT_MS}. */
  readonly closeTimeoutMs?: number;
}

/** Options common to every item. */
export interface ItemOptions {
  /**
   * Asserts that the item goes encrypted: the whole connection is, when the client has a
   * key ({@link ClientOptions.encryption}); without one, the item fails with KEY_MISSING.
   */
  readonly encrypt?: boolean;
  /** Called as plaintext bytes go out, with the running total. */
  readonly onProgress?: (bytesSent: number) => void;
  /**
   * [RES-ASK] A file of at least 1 MiB read from disk asks the server to resume what it
   * kept of it (default true); false sends it whole.
   */
  readonly resume?: boolean;
  /** [RES-RESUME] Called once when the item resumes, with the bytes the server held. */
  readonly onResume?: (offset: number) => void;
}

export interface DictItemOptions extends ItemOptions {
  readonly format: DictFormat;
  /** Name the server stores it under (as `<name>.json`); default "dictionary.json". */
  readonly name?: string;
}

export interface StreamItemOptions extends ItemOptions {
  readonly name: string;
  /** Exact byte count when known; the server then checks it. null when unknown. */
  readonly size: number | null;
}

/** A stored item: what we sent, and the server's receipt, which matched it. */
export interface SentItem {
  readonly id: number;
  readonly kind: ItemKind;
  readonly name: string;
  /** True when the item went over an encrypted session (every item of it did). */
  readonly encrypted: boolean;
  readonly bytes: number;
  /**
   * SHA-256 of the item's data, as stored: on a plain connection the client's own, which
   * the receipt's matched; in an encrypted session the receipt's, computed by the server
   * and authenticated by the session [K-RECEIPT-SESSION].
   */
  readonly sha256: string;
  /**
   * [RES-RESUME] Bytes the server already held and that were not sent again (0 when the
   * item was sent whole); present when the item asked to resume.
   */
  readonly resumed?: number;
  /**
   * [RES-HAVE] True for an entry of a tree the server had already stored (a run cut off
   * before): nothing was sent, `receipt` is the one the server kept, and `id` is 0.
   */
  readonly held?: true;
  readonly receipt: ReceiptBody;
}
