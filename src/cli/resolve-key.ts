import { randomBytes } from "node:crypto";
import { SCRYPT_SALT_BYTES } from "../crypto/constants.js";
import { defaultKeyFilePath, loadOrCreateKeyFile, readKeyFile } from "../crypto/key-file.js";
import { deriveKeyFromPassphrase } from "../crypto/passphrase.js";
import type { KeySource } from "../transfer/client.js";
import { PASSPHRASE_ENV } from "./passphrase-env.js";

export { PASSPHRASE_ENV };

/** Where the server's key came from, for the start-up message. */
export interface ServerKey {
  readonly masterKey: Buffer;
  readonly scryptSalt: Buffer | undefined;
  readonly description: string;
  readonly created: boolean;
  readonly keyFile: string | undefined;
}

/**
 * The server's key: `--key-file`, else GB_PASSPHRASE, else the default key file.
 * A missing default key file is created (owner-only) so the first start just works; a
 * missing `--key-file` only when `options.create` says so.
 * @throws {CryptoError} KEY_MISSING when the `--key-file` does not exist (and is not to be
 *   created) or cannot be created; KEY_INVALID when a key file is not valid.
 */
export async function resolveServerKey(
  keyFileOption: string | undefined,
  env: NodeJS.ProcessEnv,
  options: { readonly create?: boolean } = {},
): Promise<ServerKey> {
  const passphrase = env[PASSPHRASE_ENV];
  if (keyFileOption === undefined && passphrase !== undefined && passphrase !== "") {
    // A fresh salt per start: clients learn it from HELLO and derive the same key.
    const scryptSalt = randomBytes(SCRYPT_SALT_BYTES);
    return {
      masterKey: await deriveKeyFromPassphrase(passphrase, scryptSalt),
      scryptSalt,
      description: `a passphrase from ${PASSPHRASE_ENV}`,
      created: false,
      keyFile: undefined,
    };
  }
  const keyFile = keyFileOption ?? defaultKeyFilePath(env);
  const { key, created } =
    keyFileOption === undefined || options.create === true
      ? await loadOrCreateKeyFile(keyFile)
      : { key: await readKeyFile(keyFile), created: false };
  return {
    masterKey: key,
    scryptSalt: undefined,
    description: `key file ${keyFile}`,
    created,
    keyFile,
  };
}

/** The client's key: `--key-file`, else GB_PASSPHRASE, else the default key file. */
export async function resolveClientKey(
  keyFileOption: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<KeySource> {
  const passphrase = env[PASSPHRASE_ENV];
  if (keyFileOption === undefined && passphrase !== undefined && passphrase !== "") {
    return { passphrase };
  }
  return { key: await readKeyFile(keyFileOption ?? defaultKeyFilePath(env)) };
}
