import { defaultKeyFilePath, readKeyFile } from "../crypto/key-file.js";
import { keyFingerprint } from "../crypto/key-fingerprint.js";
import { decodeKeyText, encodeKeyText, KeyTextError } from "../crypto/key-text.js";
import { newMasterKey } from "../crypto/master-key.js";
import { CryptoError, ErrorCode } from "../errors.js";
import { ExitCode } from "./exit-codes.js";
import type { KeyFlags, KeySubcommand } from "./key-flags.js";
import { readKeyLine } from "./key-line-input.js";
import { createKeyFileHolding, replaceKeyFile } from "./key-store.js";
import { PASSPHRASE_ENV } from "./passphrase-env.js";
import type { CommandIo, Terminal } from "./terminal.js";

/** What a subcommand did to the key file. */
type KeyFileChange = "created" | "replaced" | "none";

/** The key file a subcommand works on, and whether gb-client and gb-server would use it. */
interface KeyTarget {
  readonly keyFile: string;
  /**
   * GB_PASSPHRASE is set and no --key-file was given: gb-client and gb-server then derive
   * their key from the passphrase, not from this file.
   */
  readonly passphraseWins: boolean;
}

function targetOf(flags: KeyFlags, env: NodeJS.ProcessEnv): KeyTarget {
  const passphrase = env[PASSPHRASE_ENV];
  return {
    keyFile: flags.keyFile ?? defaultKeyFilePath(env),
    passphraseWins: flags.keyFile === undefined && passphrase !== undefined && passphrase !== "",
  };
}

/** Does what a gb-key subcommand asks and reports it; returns the exit code. */
export async function runKeySubcommand(
  subcommand: KeySubcommand,
  flags: KeyFlags,
  io: CommandIo,
  terminal: Terminal,
): Promise<number> {
  const target = targetOf(flags, io.env);
  switch (subcommand) {
    case "generate":
      return generate(target, flags, terminal);
    case "fingerprint":
      return fingerprint(target, flags, terminal);
    case "export":
      return exportKey(target, flags, terminal);
    case "import":
      return importKey(target, flags, io, terminal);
  }
}

/** The key event every subcommand prints with --json (export adds the key text). */
function report(
  terminal: Terminal,
  flags: KeyFlags,
  keyFile: string,
  key: Uint8Array,
  change: KeyFileChange,
  headline: string,
): void {
  const fingerprint = keyFingerprint(key);
  if (flags.json) {
    terminal.json({ event: "key", keyFile, fingerprint, change });
    return;
  }
  terminal.print(headline);
  terminal.print(`fingerprint ${fingerprint}`);
}

/** A warning that the key file being written is not the key the programs will use. */
function warnIfPassphraseWins(target: KeyTarget, terminal: Terminal): void {
  if (!target.passphraseWins) return;
  terminal.warn(
    `${PASSPHRASE_ENV} is set: gb-client and gb-server derive their key from it, not from this key file, unless given --key-file ${target.keyFile}`,
  );
}

/**
 * A key from a passphrase has no fixed value (it depends on the salt each gb-server
 * start picks), so it has no fingerprint to compare and nothing to export.
 * @returns the exit code when the passphrase is in the way, else undefined.
 */
function refusePassphrase(target: KeyTarget, terminal: Terminal, what: string): number | undefined {
  if (!target.passphraseWins) return undefined;
  terminal.error(
    `${PASSPHRASE_ENV} is set, so gb-client and gb-server derive their key from it and the salt the server picks at each start: that key has no ${what}`,
  );
  terminal.hint(
    `to have a key to move and compare, use a key file: unset ${PASSPHRASE_ENV} and run gb-key generate, or pass --key-file PATH`,
  );
  return ExitCode.USAGE;
}

/**
 * The refusal to replace a key file that holds another key (or no valid key): the user
 * has to ask for it (--force), since every machine using the old key loses it.
 * @param given the key that was to be written, when the user gave it (import).
 */
async function refuseToReplace(keyFile: string, given?: Uint8Array): Promise<CryptoError> {
  const existing = await readKeyFile(keyFile).then(
    (key) => `a key (fingerprint ${keyFingerprint(key)})`,
    (error: unknown) => `no valid key (${error instanceof Error ? error.message : String(error)})`,
  );
  const replacement =
    given === undefined ? "a new key" : `the key given (fingerprint ${keyFingerprint(given)})`;
  return new CryptoError(
    ErrorCode.KEY_MISMATCH,
    `key file ${keyFile} already holds ${existing}; refusing to replace it with ${replacement}`,
  );
}

async function generate(target: KeyTarget, flags: KeyFlags, terminal: Terminal): Promise<number> {
  warnIfPassphraseWins(target, terminal);
  const { keyFile } = target;
  const key = newMasterKey();
  let change: KeyFileChange = "created";
  if (!(await createKeyFileHolding(keyFile, key))) {
    if (flags.force !== true) throw await refuseToReplace(keyFile);
    await replaceKeyFile(keyFile, key);
    change = "replaced";
  }
  report(
    terminal,
    flags,
    keyFile,
    key,
    change,
    `${change === "created" ? "created" : "replaced"} key file ${keyFile} (readable by you only)`,
  );
  if (!flags.json)
    terminal.note("to use it on another machine: gb-key export | ssh HOST gb-key import");
  return ExitCode.OK;
}

async function fingerprint(
  target: KeyTarget,
  flags: KeyFlags,
  terminal: Terminal,
): Promise<number> {
  const refused = refusePassphrase(target, terminal, "fingerprint of its own");
  if (refused !== undefined) return refused;
  const key = await readKeyFile(target.keyFile);
  report(terminal, flags, target.keyFile, key, "none", `key file ${target.keyFile}`);
  return ExitCode.OK;
}

/** Prints the key text alone on stdout, so that `gb-key export | ssh B gb-key import` works. */
async function exportKey(target: KeyTarget, flags: KeyFlags, terminal: Terminal): Promise<number> {
  const refused = refusePassphrase(target, terminal, "fixed value to export");
  if (refused !== undefined) return refused;
  const key = await readKeyFile(target.keyFile);
  const keyText = encodeKeyText(key);
  const fingerprintText = keyFingerprint(key);
  if (flags.json) {
    terminal.json({
      event: "key",
      keyFile: target.keyFile,
      fingerprint: fingerprintText,
      change: "none",
      keyText,
    });
    return ExitCode.OK;
  }
  terminal.print(keyText);
  terminal.note(
    `the line above is the secret key of key file ${target.keyFile} (fingerprint ${fingerprintText}): move it only over a channel you trust, such as ssh, and keep no copy of it elsewhere`,
  );
  return ExitCode.OK;
}

/** The key in a key line from standard input; refusals say it came from there. */
function decodeInput(line: string): Buffer {
  try {
    return decodeKeyText(line);
  } catch (error) {
    if (!(error instanceof KeyTextError)) throw error;
    throw new KeyTextError(error.problem, `standard input: ${error.message}`, {
      cause: error,
      hint: "copy the whole line that gb-key export prints, or pipe it: gb-key export | ssh HOST gb-key import",
    });
  }
}

async function importKey(
  target: KeyTarget,
  flags: KeyFlags,
  io: CommandIo,
  terminal: Terminal,
): Promise<number> {
  warnIfPassphraseWins(target, terminal);
  const interactive = "isTTY" in io.stdin && io.stdin.isTTY === true;
  if (interactive && !flags.json) {
    terminal.note("paste the key line that gb-key export printed, then press Enter");
  }
  const key = decodeInput(await readKeyLine({ stream: io.stdin, interactive }));
  const { keyFile } = target;
  const existing = await readKeyFile(keyFile).catch((error: unknown) => {
    if (error instanceof CryptoError && error.code === ErrorCode.KEY_MISSING) return undefined;
    return error;
  });
  let change: KeyFileChange;
  if (existing instanceof Buffer && existing.equals(key)) {
    change = "none";
  } else if (existing === undefined && (await createKeyFileHolding(keyFile, key))) {
    change = "created";
  } else if (flags.force === true) {
    await replaceKeyFile(keyFile, key);
    change = "replaced";
  } else {
    throw await refuseToReplace(keyFile, key);
  }
  const headline = {
    created: `imported the key into new key file ${keyFile} (readable by you only)`,
    replaced: `replaced the key in key file ${keyFile}`,
    none: `key file ${keyFile} already holds this key`,
  }[change];
  report(terminal, flags, keyFile, key, change, headline);
  return ExitCode.OK;
}
