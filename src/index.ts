/**
 * gb-transfer: send dictionaries and files to a gb-transfer server, or run one.
 *
 * ```ts
 * import { GbServer, GbClient } from "gb-transfer";
 * const server = await GbServer.listen({ port: 0, masterKey, saveDir: "./received" });
 * server.on("item", (item) => console.log(item.name, item.sha256));
 * const client = await GbClient.connect({ port: server.address().port });
 * await client.sendDict(new Map([["hello", "world"], ["n", 10n ** 20n]]), { format: "msgpack" });
 * await client.close();
 * ```
 */
export { GbClient } from "./transfer/client.js";
export type {
  ClientOptions,
  DictItemOptions,
  ItemOptions,
  KeySource,
  SentItem,
  StreamItemOptions,
} from "./transfer/client.js";
export {
  prepareDict,
  prepareDictInput,
  prepareFile,
  preparePath,
  prepareStream,
  prepareTree,
  type PreparedDict,
  type PreparedDirectory,
  type PreparedFile,
  type PreparedItem,
  type PreparedStream,
  type PreparedTree,
} from "./transfer/client/prepared-item.js";
export {
  BatchPlan,
  isBatchable,
  type BatchableFile,
  type BatchEntry,
} from "./transfer/client/batch-sender.js";
export type { SkippedEntry, SkipReason } from "./transfer/inputs/walk-tree.js";
export {
  MAX_DICT_INPUT_BYTES,
  readDictInput,
  type DictInput,
} from "./transfer/inputs/read-dict-input.js";
export {
  InputFileError,
  type InputFileKind,
  type InputFileReason,
} from "./transfer/inputs/input-file-error.js";
export { DictInputError } from "./transfer/inputs/dict-input-error.js";
export { send, type ItemToSend, type SendOutcome } from "./transfer/send.js";
export { GbServer } from "./transfer/server.js";
export { DEFAULT_HOST, DEFAULT_PORT } from "./transfer/default-address.js";
export type { DictLoad, ServerEvents, ServerOptions } from "./transfer/server.js";
export type {
  InboundProgress,
  ItemFailure,
  Peer,
  ReceivedItem,
} from "./transfer/server/received-item.js";
export type {
  BatchMeta,
  DirEntry,
  FileEntry,
  ItemKind,
  ItemMeta,
  ReceiptBody,
} from "./protocol/messages.js";
export { PROTOCOL_VERSION } from "./protocol/constants.js";
export { DICT_FORMATS, decodeDict, encodeDict, type DictFormat } from "./codecs/dict-format.js";
export { isDictObject, type DictObject, type DictValue } from "./codecs/dict-value.js";
export { toDictObject } from "./codecs/to-dict-object.js";
export { toPlainObject } from "./codecs/to-plain-object.js";
export { parseDictJson } from "./codecs/json-codec.js";
export { dictJsonText } from "./codecs/dict-json-text.js";
export {
  printableDict,
  type PrintableDict,
  type PrintableToken,
  type PrintableTokenKind,
} from "./codecs/dict-printable.js";
export { DictTextError, type TextPosition } from "./codecs/dict-text-error.js";
export type { JsonObject, JsonValue } from "./codecs/json-value.js";
export { DEFAULT_DICT_LIMITS, type DictLimits } from "./codecs/limits.js";
export {
  createKeyFile,
  defaultKeyFilePath,
  loadOrCreateKeyFile,
  readKeyFile,
} from "./crypto/key-file.js";
export { deriveKeyFromPassphrase } from "./crypto/passphrase.js";
export {
  KEY_TEXT_CHARACTERS,
  KEY_TEXT_PREFIX,
  KeyTextError,
  decodeKeyText,
  encodeKeyText,
  type KeyTextProblem,
} from "./crypto/key-text.js";
export { keyFingerprint } from "./crypto/key-fingerprint.js";
export * from "./errors.js";
