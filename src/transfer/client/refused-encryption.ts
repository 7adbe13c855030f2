import { CryptoError, ErrorCode } from "../../errors.js";
import type { ItemOptions, SentItem } from "./client-options.js";
import { handled } from "./item-slot.js";

/**
 * A rejected promise when an item asks to be encrypted (`options.encrypt`) on a plain
 * connection: the client has no key (KEY_MISSING). Undefined otherwise.
 */
export function refusedEncryption(
  options: ItemOptions,
  encrypted: boolean,
): Promise<SentItem> | undefined {
  if (options.encrypt !== true || encrypted) return undefined;
  const error = new CryptoError(
    ErrorCode.KEY_MISSING,
    "encryption was asked for but the client has no key",
  );
  return handled(Promise.reject(error));
}
