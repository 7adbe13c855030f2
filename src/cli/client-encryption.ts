/** Why gb-client encrypts a connection, or why it does not [K-ENCRYPT-DEFAULT]. */
export type EncryptionReason =
  /** `--encrypt` */
  | "asked"
  /** `--key-file` or GB_PASSPHRASE: a key was given, so it is used. */
  | "key-given"
  /** Nothing said, and the host is not this machine. */
  | "off-loopback"
  /** `--plaintext` */
  | "plaintext-asked"
  /** Nothing said, no key given, and the host is this machine. */
  | "loopback";

export interface EncryptionChoice {
  readonly encrypt: boolean;
  readonly reason: EncryptionReason;
}

/** What the choice depends on: the user's flags, whether a key was given, the host. */
export interface EncryptionInputs {
  /** `--encrypt` */
  readonly encrypt: boolean;
  /** `--plaintext` (never together with `--encrypt`: that is a usage error). */
  readonly plaintext: boolean;
  /** `--key-file` given, or a non-empty GB_PASSPHRASE. */
  readonly keyGiven: boolean;
  /** Every address of the host is a loopback address [K-HOST]. */
  readonly loopback: boolean;
}

/**
 * [K-ENCRYPT-DEFAULT] Whether gb-client encrypts: `--encrypt` or `--plaintext` decide
 * when given; otherwise a key given (`--key-file`, GB_PASSPHRASE) means encrypting with
 * it, and so does a host that is not this machine. Plaintext is left only for a client
 * on the server's own machine that gave no key, or that asked for it (and then the
 * server's HELLO still has to accept it [H-MODE]).
 */
export function chooseEncryption(inputs: EncryptionInputs): EncryptionChoice {
  if (inputs.encrypt) return { encrypt: true, reason: "asked" };
  if (inputs.plaintext) return { encrypt: false, reason: "plaintext-asked" };
  if (inputs.keyGiven) return { encrypt: true, reason: "key-given" };
  if (!inputs.loopback) return { encrypt: true, reason: "off-loopback" };
  return { encrypt: false, reason: "loopback" };
}
