export {
  AES_KEY_BYTES,
  CHUNK_PLAINTEXT_BYTES,
  ITEM_SALT_BYTES,
  KEY_ID_BYTES,
  KEY_ID_INFO,
  MASTER_KEY_BYTES,
  META_KEY_INFO,
  NONCE_BYTES,
  PAYLOAD_KEY_INFO,
  PAYLOAD_NONCE_INFO,
  RECEIPT_KEY_INFO,
  SCRYPT_LOG2_N,
  SCRYPT_MAXMEM_BYTES,
  SCRYPT_P,
  SCRYPT_R,
  SCRYPT_SALT_BYTES,
  SEALED_CHUNK_MAX_BYTES,
  TAG_BYTES,
} from "./constants.js";
export { ChunkOpener } from "./chunk-opener.js";
export { ChunkSealer } from "./chunk-sealer.js";
export { deriveItemKeys, newItemSalt, type ItemKeys } from "./item-keys.js";
export {
  KEY_FILE_HEADER,
  createKeyFile,
  defaultKeyFilePath,
  formatKeyFile,
  loadOrCreateKeyFile,
  parseKeyFile,
  readKeyFile,
} from "./key-file.js";
export { keyId } from "./key-id.js";
export { assertMasterKey, newMasterKey } from "./master-key.js";
export { deriveKeyFromPassphrase } from "./passphrase.js";
export { openOnce, sealOnce } from "./seal-once.js";
