import { hkdfSync, randomBytes } from "node:crypto";
import { CryptoError, ErrorCode } from "../errors.js";
import {
  AES_KEY_BYTES,
  ITEM_SALT_BYTES,
  META_KEY_INFO,
  NONCE_BYTES,
  PAYLOAD_KEY_INFO,
  PAYLOAD_NONCE_INFO,
  RECEIPT_KEY_INFO,
} from "./constants.js";
import { assertMasterKey } from "./master-key.js";

/**
 * The keys of one item, all derived from the master key and the item's random salt.
 * Deriving fresh keys per item is what lets {@link sealOnce} use a fixed nonce and lets
 * the chunk counter restart at zero for every item.
 */
export interface ItemKeys {
  /** AES-256-GCM key of the chunked payload (32 bytes). */
  readonly payloadKey: Buffer;
  /** Base nonce of the chunked payload (12 bytes); chunk nonces are derived from it. */
  readonly baseNonce: Buffer;
  /** Single-use AES-256-GCM key that seals the item's metadata (32 bytes). */
  readonly metaKey: Buffer;
  /** Single-use AES-256-GCM key that seals the server's receipt for the item (32 bytes). */
  readonly receiptKey: Buffer;
}

function derive(masterKey: Uint8Array, itemSalt: Uint8Array, info: string, bytes: number): Buffer {
  return Buffer.from(hkdfSync("sha256", masterKey, itemSalt, info, bytes));
}

/**
 * Derives an item's keys: each is HKDF-SHA256(ikm = masterKey, salt = itemSalt, info),
 * with the info strings of constants.ts, so the four outputs are independent [E-KEYS].
 *
 * @throws {CryptoError} KEY_INVALID when `masterKey` is not 32 bytes or `itemSalt` is
 *   not 16 bytes.
 */
export function deriveItemKeys(masterKey: Uint8Array, itemSalt: Uint8Array): ItemKeys {
  assertMasterKey(masterKey);
  if (itemSalt.length !== ITEM_SALT_BYTES) {
    throw new CryptoError(
      ErrorCode.KEY_INVALID,
      `an item salt must be ${ITEM_SALT_BYTES} bytes, got ${itemSalt.length}`,
    );
  }
  return {
    payloadKey: derive(masterKey, itemSalt, PAYLOAD_KEY_INFO, AES_KEY_BYTES),
    baseNonce: derive(masterKey, itemSalt, PAYLOAD_NONCE_INFO, NONCE_BYTES),
    metaKey: derive(masterKey, itemSalt, META_KEY_INFO, AES_KEY_BYTES),
    receiptKey: derive(masterKey, itemSalt, RECEIPT_KEY_INFO, AES_KEY_BYTES),
  };
}

/**
 * Returns a fresh random item salt (16 bytes). 128 random bits make a repeated salt,
 * and so a repeated key and nonce, negligibly likely even over billions of items.
 */
export function newItemSalt(): Buffer {
  return randomBytes(ITEM_SALT_BYTES);
}
