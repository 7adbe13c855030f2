import type { DictLimits } from "../../codecs/limits.js";
import type { DictWants } from "./dict-job.js";
import type { DictWorkerPool } from "./dict-worker-pool.js";
import type { ItemStore } from "./item-store.js";
import type { PlaintextPolicy } from "./plaintext-policy.js";
import type { SmallFileWriter } from "./small-file-writer.js";
import type { ResumeState } from "./resume-state.js";
import type { DeadlineSettings } from "./session-deadlines.js";
import type { InboundItem } from "./inbound-item.js";
import type { ItemFailure, Peer, ReceivedItem } from "./received-item.js";

/** The HELLO frame (header and payload, exactly as sent) for each answer `accepts` may give. */
export interface HelloFrames {
  /** `accepts: ["noise"]`: for a peer the policy does not let connect in the clear. */
  readonly noiseOnly: Buffer;
  /** `accepts: ["noise","plain"]`. */
  readonly noiseAndPlain: Buffer;
}

/**
 * What a connection's session needs from its server: settings, and the state all
 * connections share (the dictionary budget, the listeners).
 */
export interface SessionContext {
  /** The HELLO frames, encoded once for every connection [M-HELLO]. */
  readonly helloFrames: HelloFrames;
  /** The master key: the PSK of every Noise session [H-PSK]. */
  readonly masterKey: Buffer;
  /** Who may connect in the clear [H-POLICY]. */
  readonly plaintext: PlaintextPolicy;
  readonly store: ItemStore | null;
  /** Stores small files held in memory [V-GROUP]; null when the server does not save. */
  readonly smallFiles: SmallFileWriter | null;
  /** The partials kept for items that resume [RES-STATE]; null when none are kept. */
  readonly resume: ResumeState | null;
  readonly dictLimits: DictLimits;
  /** Bytes of each file kept in {@link ReceivedItem.preview}; 0 keeps none. */
  readonly previewBytes: number;
  /** A connection with no traffic for this long is closed. */
  readonly idleTimeoutMs: number;
  /** The opening and progress deadlines of every connection [S-TIMEOUT]. */
  readonly deadlines: DeadlineSettings;
  /**
   * Reserves room for a dictionary of `bytes` against the server-wide budget for
   * dictionaries being received; false when the budget is spent.
   */
  reserveDictBytes(bytes: number): boolean;
  /**
   * Counts `bytes` against the dictionary budget whatever it holds already (memory that
   * is taken by then, such as a decoded dictionary's text); returns `bytes`, to release
   * later.
   */
  holdDictBytes(bytes: number): number;
  releaseDictBytes(bytes: number): void;
  /** The workers that decode dictionaries over {@link inlineDictBytes} [V-DICT-WORK]. */
  readonly dictPool: DictWorkerPool;
  /** Dictionaries of at most this many bytes are decoded on the event loop. */
  readonly inlineDictBytes: number;
  /** What listeners get of a dictionary besides its printable form. */
  readonly dictWants: DictWants;
  onItem(item: ReceivedItem): void;
  /** Bytes of an item arrived (its running total in `item.bytes`). */
  onProgress(
    peer: Peer,
    item: Pick<InboundItem, "id" | "bytes"> & {
      readonly meta: { readonly name: string; readonly size: number | null };
    },
  ): void;
  onFailure(failure: ItemFailure): void;
}
