/**
 * What a gb-transfer server can be told ({@link ServerOptions}), and the value of each
 * setting left out. `GbServer` (../server.ts) re-exports them.
 */
import type { DictLimits } from "../../codecs/limits.js";
import type { PlaintextPolicy } from "./plaintext-policy.js";

/** A connection silent for this long is closed. */
export const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
/**
 * [S-TIMEOUT] How long a connection's opening (preamble, then a handshake or its first
 * ITEM) may take: a client sends it at once (a passphrase's scrypt takes it a second).
 */
export const DEFAULT_OPENING_TIMEOUT_MS = 10_000;
/** [S-TIMEOUT] The window over which an item's progress is measured. */
export const DEFAULT_PROGRESS_WINDOW_MS = 30_000;
/**
 * [S-TIMEOUT] Bytes every window must bring while an item is in progress: 16 KiB per
 * 30 s, about 550 B/s, far below any working link (a 56 kbit/s modem moves 7 KB/s).
 */
export const DEFAULT_MIN_PROGRESS_BYTES = 16 * 1024;
/** Connections served at once; more are told BUSY and closed. */
export const DEFAULT_MAX_CONNECTIONS = 256;
/** How long {@link GbServer.close} lets items in flight finish. */
export const DEFAULT_CLOSE_GRACE_MS = 10_000;
/** Bytes of each received file kept for display when previews are on. */
export const DEFAULT_PREVIEW_BYTES = 4096;
/**
 * Dictionary bytes all connections together may hold at once, from admission until the
 * item is stored or fails: with the workers' heaps, what bounds the server's memory.
 */
export const DEFAULT_DICT_BUDGET_BYTES = 128 * 1024 * 1024;
/** Worker threads decoding dictionaries at once [V-DICT-WORK]. */
export const DEFAULT_DICT_WORKERS = 1;
/** The heap one dictionary worker may use, in MiB [V-DICT-WORK]. */
export const DEFAULT_DICT_WORKER_HEAP_MB = 192;
/** How long one dictionary may take to decode and render, in ms [V-DICT-WORK]. */
export const DEFAULT_DICT_TIMEOUT_MS = 10_000;
/**
 * Dictionaries of at most this many bytes are decoded on the event loop: a worker's round
 * trip would cost more than they can (at worst, about 8,000 values: a few ms).
 */
export const DEFAULT_INLINE_DICT_BYTES = 8 * 1024;

export interface ServerOptions {
  readonly host?: string;
  /** 0 picks a free port; read it from {@link GbServer.address}. */
  readonly port?: number;
  /** The 32-byte master key: the pre-shared key of every encrypted session [H-PSK]. */
  readonly masterKey: Uint8Array;
  /**
   * Salt announced to clients deriving the key from a passphrase (16 bytes). Pass the
   * one `masterKey` was derived with; omit it for a key read from a key file.
   */
  readonly scryptSalt?: Uint8Array;
  /** Directory to store items in; null stores nothing. */
  readonly saveDir: string | null;
  /** fsync each stored file before naming it (default true). */
  readonly durable?: boolean;
  /**
   * Bytes of small files (at most 64 KiB each) all connections may hold in memory until
   * the small-file writer stores them (default 32 MiB); a file beyond it is written to a
   * partial file as it arrives, as larger ones are [V-GROUP].
   */
  readonly smallFileBudgetBytes?: number;
  /** [RES-BOUND] Bytes the partials kept for resuming may take together; 0 keeps none. */
  readonly resumeMaxBytes?: number;
  /** [RES-EXPIRE] How long a partial is kept after its last byte, in ms. */
  readonly resumeExpiryMs?: number;
  readonly previewBytes?: number;
  /**
   * Who may connect in the clear [H-POLICY]: "loopback" (the default), programs on this
   * machine only; "anyone"; "never", every connection must be encrypted.
   */
  readonly plaintext?: PlaintextPolicy;
  readonly dictLimits?: DictLimits;
  readonly idleTimeoutMs?: number;
  /** How long a connection's opening may take, in ms [S-TIMEOUT]. */
  readonly openingTimeoutMs?: number;
  /** The window over which an item's progress is measured, in ms [S-TIMEOUT]. */
  readonly progressWindowMs?: number;
  /** Bytes that must arrive in every window while an item is in progress [S-TIMEOUT]. */
  readonly minProgressBytes?: number;
  readonly maxConnections?: number;
  /** Dictionary bytes held at once, all connections together, until each is stored. */
  readonly dictBudgetBytes?: number;
  /**
   * Hand listeners each dictionary decoded (`item.value`; default false). It costs the
   * event loop a copy of the whole dictionary and memory outside the server's bounds;
   * `item.printable` (always there) is enough to show one.
   */
  readonly dictValues?: boolean;
  /**
   * Hand listeners each dictionary's printable form (`item.printable`; default true): its
   * first lines, laid out as stored, as tokens to colour.
   */
  readonly dictPrintable?: boolean;
  /** Hand listeners each dictionary's compact JSON text (`item.jsonText`; default false). */
  readonly dictJsonText?: boolean;
  /** Worker threads decoding dictionaries at once [V-DICT-WORK]. */
  readonly dictWorkers?: number;
  /** The heap of each dictionary worker, in MiB [V-DICT-WORK]. */
  readonly dictWorkerHeapMb?: number;
  /** How long one dictionary may take to decode, in ms [V-DICT-WORK]. */
  readonly dictTimeoutMs?: number;
  /** Dictionaries of at most this many bytes are decoded on the event loop. */
  readonly inlineDictBytes?: number;
}

/** What the server holds for dictionaries right now, for tests and diagnostics. */
