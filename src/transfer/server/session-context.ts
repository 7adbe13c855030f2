import type { DictLimits } from "../../codecs/limits.js";
import type { Hello } from "../../protocol/messages.js";
import type { ItemStore } from "./item-store.js";
import type { ItemFailure, ReceivedItem } from "./received-item.js";

/**
 * What a connection's session needs from its server: settings, and the state all
 * connections share (the dictionary budget, the memory of salts, the listeners).
 */
export interface SessionContext {
  readonly hello: Hello;
  /** {@link hello} encoded once for every connection. */
  readonly helloPayload: Buffer;
  readonly masterKey: Buffer;
  readonly store: ItemStore | null;
  readonly dictLimits: DictLimits;
  /** Bytes of each file kept in {@link ReceivedItem.preview}; 0 keeps none. */
  readonly previewBytes: number;
  readonly requireEncryption: boolean;
  /** A connection with no traffic for this long is closed. */
  readonly idleTimeoutMs: number;
  /**
   * Reserves room for a dictionary of `bytes` against the server-wide budget for
   * dictionaries being received; false when the budget is spent.
   */
  reserveDictBytes(bytes: number): boolean;
  releaseDictBytes(bytes: number): void;
  /**
   * Records an encrypted item's salt; false when it was seen before (a replayed item,
   * which would also make the server seal a second receipt under a single-use key).
   */
  rememberSalt(salt: Buffer): boolean;
  onItem(item: ReceivedItem): void;
  onFailure(failure: ItemFailure): void;
}
