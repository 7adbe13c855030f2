/**
 * [KEY-TEXT] A master key as one line of text, so that it moves between machines by copy
 * and paste: the Bech32 encoding (BIP-173) of its 32 bytes with the human-readable part
 * `gb-secret-key-`, in upper case (`GB-SECRET-KEY-1…`), as age writes its secret keys.
 *
 * Bech32 is written here rather than taken from a package: it is about a hundred lines,
 * the key text is central to moving keys, and it is checked against BIP-173's own test
 * vectors (test/crypto/key-text.test.ts).
 */
import { CryptoError, ErrorCode, type GbErrorOptions } from "../errors.js";
import { MASTER_KEY_BYTES } from "./constants.js";
import { assertMasterKey } from "./master-key.js";

/** The 32 characters of Bech32, in the order of the values 0 to 31 they stand for. */
const BECH32_ALPHABET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";

/** Each character's value, by its lower-case form. */
const VALUE_OF_CHARACTER: ReadonlyMap<string, number> = new Map(
  Array.from({ length: BECH32_ALPHABET.length }, (_, value) => [
    BECH32_ALPHABET.charAt(value),
    value,
  ]),
);

/** The generator of Bech32's BCH code (BIP-173, `bech32_polymod`). */
const POLYMOD_GENERATORS = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

/** Bits of the checksum state below the five that shift out at each step. */
const POLYMOD_LOW_BITS_MASK = 0x1ffffff;

/** Where the five bits shifted out of the checksum state start. */
const POLYMOD_TOP_SHIFT = 25;

/**
 * What the checksum of a valid string leaves: 1 for Bech32. (Bech32m, BIP-350, uses
 * 0x2bc830a3; [KEY-TEXT] is Bech32, as age's keys are.)
 */
const BECH32_CHECKSUM_CONSTANT = 1;

/** Characters of the checksum, at the end of the data part. */
const CHECKSUM_CHARACTERS = 6;

/** Bits a Bech32 character carries. */
const BITS_PER_CHARACTER = 5;

/** Bits in a byte. */
const BITS_PER_BYTE = 8;

/** The bits of one byte. */
const BYTE_MASK = 0xff;

/** The largest value of a Bech32 character. */
const CHARACTER_VALUE_MASK = (1 << BITS_PER_CHARACTER) - 1;

/** The separator between the human-readable part and the data part (the last "1"). */
const SEPARATOR = "1";

/** BIP-173: a Bech32 string is at most 90 characters long. */
export const MAX_BECH32_CHARACTERS = 90;

/** BIP-173: the human-readable part is 1 to 83 characters ... */
const MAX_HRP_CHARACTERS = 83;

/** ... each from US-ASCII 33 to 126. */
const MIN_HRP_CHARACTER_CODE = 33;
const MAX_HRP_CHARACTER_CODE = 126;

/** The high and low bits of a human-readable character, fed to the checksum apart. */
const HRP_HIGH_BITS_SHIFT = 5;
const HRP_LOW_BITS_MASK = 0x1f;

/** [KEY-TEXT] The human-readable part of a key text. */
export const KEY_TEXT_HRP = "gb-secret-key-";

/** [KEY-TEXT] How every key text starts, as written. */
export const KEY_TEXT_PREFIX = `${KEY_TEXT_HRP}${SEPARATOR}`.toUpperCase();

/** Data characters that carry a 32-byte key: 256 bits in 5-bit groups, the last padded. */
const KEY_DATA_CHARACTERS = Math.ceil((MASTER_KEY_BYTES * BITS_PER_BYTE) / BITS_PER_CHARACTER);

/** [KEY-TEXT] The length of every key text: 15 + 52 + 6 = 73 characters. */
export const KEY_TEXT_CHARACTERS =
  KEY_TEXT_PREFIX.length + KEY_DATA_CHARACTERS + CHECKSUM_CHARACTERS;

/**
 * What is wrong with a text that is not a key text, so that a caller can word its own
 * advice without reading the message:
 * - `prefix`: it does not start with `GB-SECRET-KEY-1` (another kind of key or text);
 * - `mixed-case`: upper- and lower-case letters together, which Bech32 forbids;
 * - `length`: a character is missing or extra (or the text is not one line);
 * - `character`: a character that Bech32 does not use (`b`, `i`, `o`, `1`, white space …);
 * - `checksum`: a character is wrong, or two are swapped;
 * - `padding`: the bits after the key's 256 are not zero, so no key encodes to this text.
 */
export type KeyTextProblem =
  "prefix" | "mixed-case" | "length" | "character" | "checksum" | "padding";

/**
 * A text that is not a valid Bech32 string or key text. Its message says what is wrong
 * and never quotes the text, which may be key material.
 */
export class KeyTextError extends CryptoError {
  readonly problem: KeyTextProblem;

  constructor(problem: KeyTextProblem, message: string, options: GbErrorOptions = {}) {
    super(ErrorCode.KEY_INVALID, message, options);
    this.problem = problem;
  }
}

/** A decoded Bech32 string: its human-readable part in lower case, its data values. */
export interface Bech32Parts {
  readonly hrp: string;
  /** The data part's values (0 to 31), without the checksum. */
  readonly data: number[];
}

/** BIP-173's `bech32_polymod`: the BCH checksum state after `values`. */
function polymod(values: readonly number[]): number {
  let state = 1;
  for (const value of values) {
    const top = state >>> POLYMOD_TOP_SHIFT;
    state = ((state & POLYMOD_LOW_BITS_MASK) << BITS_PER_CHARACTER) ^ value;
    POLYMOD_GENERATORS.forEach((generator, bit) => {
      if (((top >>> bit) & 1) === 1) state ^= generator;
    });
  }
  return state;
}

/** The UTF-16 code units of `text`: positions in messages count them, as `length` does. */
function codeUnits(text: string): number[] {
  return Array.from({ length: text.length }, (_, index) => text.charCodeAt(index));
}

/** BIP-173's `bech32_hrp_expand`: the high bits of each character, a zero, the low bits. */
function expandHrp(hrp: string): number[] {
  const codes = codeUnits(hrp);
  return [
    ...codes.map((code) => code >>> HRP_HIGH_BITS_SHIFT),
    0,
    ...codes.map((code) => code & HRP_LOW_BITS_MASK),
  ];
}

function checksumOf(hrp: string, data: readonly number[]): number[] {
  const state =
    polymod([...expandHrp(hrp), ...data, ...new Array<number>(CHECKSUM_CHARACTERS).fill(0)]) ^
    BECH32_CHECKSUM_CONSTANT;
  return Array.from(
    { length: CHECKSUM_CHARACTERS },
    (_, index) =>
      (state >>> (BITS_PER_CHARACTER * (CHECKSUM_CHARACTERS - 1 - index))) & CHARACTER_VALUE_MASK,
  );
}

function hasValidChecksum(hrp: string, values: readonly number[]): boolean {
  return polymod([...expandHrp(hrp), ...values]) === BECH32_CHECKSUM_CONSTANT;
}

function isValidHrp(hrp: string): boolean {
  return (
    hrp.length >= 1 &&
    hrp.length <= MAX_HRP_CHARACTERS &&
    codeUnits(hrp).every((code) => code >= MIN_HRP_CHARACTER_CODE && code <= MAX_HRP_CHARACTER_CODE)
  );
}

/**
 * Encodes `data` (values 0 to 31) under `hrp` as a Bech32 string, in lower case as
 * BIP-173 asks of encoders.
 * @throws {KeyTextError} `character` when `hrp` is not 1 to 83 US-ASCII characters from
 *   33 to 126 or holds upper-case letters, or a value is not 0 to 31; `length` when the
 *   result would be over 90 characters.
 */
export function bech32Encode(hrp: string, data: readonly number[]): string {
  if (!isValidHrp(hrp) || hrp !== hrp.toLowerCase()) {
    throw new KeyTextError(
      "character",
      "a Bech32 human-readable part is 1 to 83 characters from ! to ~, in lower case",
    );
  }
  if (data.some((value) => !Number.isInteger(value) || value < 0 || value > CHARACTER_VALUE_MASK)) {
    throw new KeyTextError("character", "Bech32 data values are 0 to 31");
  }
  const length = hrp.length + SEPARATOR.length + data.length + CHECKSUM_CHARACTERS;
  if (length > MAX_BECH32_CHARACTERS) {
    throw new KeyTextError(
      "length",
      `a Bech32 string is at most ${MAX_BECH32_CHARACTERS} characters, this one would be ${length}`,
    );
  }
  const characters = [...data, ...checksumOf(hrp, data)].map((value) =>
    BECH32_ALPHABET.charAt(value),
  );
  return `${hrp}${SEPARATOR}${characters.join("")}`;
}

/** Lower case for US-ASCII letters only: `toLowerCase` maps some other letters to ASCII (K, the Kelvin sign, to k). */
function asciiLowerCase(text: string): string {
  return text.replace(/[A-Z]/g, (letter) => letter.toLowerCase());
}

/** BIP-173: a string is all upper case or all lower case. */
function isMixedCase(text: string): boolean {
  return /[a-z]/.test(text) && /[A-Z]/.test(text);
}

/**
 * The values of the data characters `characters`, which start at (1-based) `position`
 * in the text.
 * @throws {KeyTextError} `character` naming the position (never the character: the text
 *   may be key material) of the first that is not in the Bech32 alphabet.
 */
function valuesOf(characters: string, position: number): number[] {
  return Array.from({ length: characters.length }, (_, index) => {
    const value = VALUE_OF_CHARACTER.get(asciiLowerCase(characters.charAt(index)));
    if (value === undefined) {
      throw new KeyTextError(
        "character",
        `character ${position + index} is not a Bech32 character`,
      );
    }
    return value;
  });
}

/**
 * Splits a Bech32 string at its last "1" and checks everything but the checksum: the
 * case, the length, the human-readable part and the data characters.
 */
function parseBech32(text: string): { hrp: string; values: number[] } {
  if (isMixedCase(text)) {
    throw new KeyTextError("mixed-case", "it mixes upper- and lower-case letters");
  }
  if (text.length > MAX_BECH32_CHARACTERS) {
    throw new KeyTextError(
      "length",
      `it is ${text.length} characters long; Bech32 allows at most ${MAX_BECH32_CHARACTERS}`,
    );
  }
  const separator = text.lastIndexOf(SEPARATOR);
  if (separator === -1) {
    throw new KeyTextError("character", `it has no separator "${SEPARATOR}"`);
  }
  // BIP-173: the checksum is computed over the lower-case form.
  const hrp = asciiLowerCase(text.slice(0, separator));
  if (!isValidHrp(hrp)) {
    throw new KeyTextError(
      "prefix",
      "its human-readable part (before the last 1) is not 1 to 83 characters from ! to ~",
    );
  }
  const values = valuesOf(text.slice(separator + 1), separator + 2);
  if (values.length < CHECKSUM_CHARACTERS) {
    throw new KeyTextError(
      "length",
      `its data part is ${values.length} characters, shorter than the ${CHECKSUM_CHARACTERS}-character checksum`,
    );
  }
  return { hrp, values };
}

/**
 * Decodes a Bech32 string (BIP-173): either case but not both, at most 90 characters,
 * a human-readable part of 1 to 83 US-ASCII characters from 33 to 126, the last "1" as
 * separator, data characters from the Bech32 alphabet, a valid checksum.
 * @throws {KeyTextError} KEY_INVALID, with the problem found, when `text` is not Bech32.
 */
export function bech32Decode(text: string): Bech32Parts {
  const { hrp, values } = parseBech32(text);
  if (!hasValidChecksum(hrp, values)) {
    throw new KeyTextError("checksum", "its checksum does not match");
  }
  return { hrp, data: values.slice(0, -CHECKSUM_CHARACTERS) };
}

/** Regroups bytes into 5-bit values, most significant bit first, the last padded with zeros. */
function bytesToValues(bytes: Uint8Array): number[] {
  const values: number[] = [];
  let pending = 0;
  let pendingBits = 0;
  for (const byte of bytes) {
    pending = (pending << BITS_PER_BYTE) | byte;
    pendingBits += BITS_PER_BYTE;
    while (pendingBits >= BITS_PER_CHARACTER) {
      pendingBits -= BITS_PER_CHARACTER;
      values.push((pending >>> pendingBits) & CHARACTER_VALUE_MASK);
    }
    pending &= (1 << pendingBits) - 1;
  }
  if (pendingBits > 0)
    values.push((pending << (BITS_PER_CHARACTER - pendingBits)) & CHARACTER_VALUE_MASK);
  return values;
}

/**
 * Regroups 5-bit values into bytes; the bits left over (fewer than 8) must be zero, as
 * BIP-173 asks, so that each key has exactly one text.
 * @returns undefined when the leftover bits are not zero.
 */
function valuesToBytes(values: readonly number[]): Buffer | undefined {
  const bytes: number[] = [];
  let pending = 0;
  let pendingBits = 0;
  for (const value of values) {
    pending = (pending << BITS_PER_CHARACTER) | value;
    pendingBits += BITS_PER_CHARACTER;
    if (pendingBits >= BITS_PER_BYTE) {
      pendingBits -= BITS_PER_BYTE;
      bytes.push((pending >>> pendingBits) & BYTE_MASK);
    }
    pending &= (1 << pendingBits) - 1;
  }
  return pending === 0 ? Buffer.from(bytes) : undefined;
}

/**
 * [KEY-TEXT] The text of a master key: `GB-SECRET-KEY-1` and 58 more characters, the
 * Bech32 encoding of its 32 bytes in upper case.
 * @throws {CryptoError} KEY_INVALID when `key` is not 32 bytes.
 */
export function encodeKeyText(key: Uint8Array): string {
  assertMasterKey(key);
  return bech32Encode(KEY_TEXT_HRP, bytesToValues(key)).toUpperCase();
}

/**
 * [KEY-TEXT] The master key a key text holds. The text is exactly the 73 characters
 * (no white space around it), all upper case or all lower case.
 * @throws {KeyTextError} KEY_INVALID, with the {@link KeyTextProblem}, when `text` is
 *   not a key text. The message never quotes the text.
 */
export function decodeKeyText(text: string): Buffer {
  // The prefix first: a text that is another kind of key (or no key) is best told so,
  // whatever else is wrong with it.
  if (asciiLowerCase(text.slice(0, KEY_TEXT_PREFIX.length)) !== asciiLowerCase(KEY_TEXT_PREFIX)) {
    throw new KeyTextError(
      "prefix",
      `not a gb-transfer key: a key text starts with ${KEY_TEXT_PREFIX}`,
    );
  }
  if (isMixedCase(text)) {
    throw new KeyTextError(
      "mixed-case",
      "not a valid key text: it mixes upper- and lower-case letters",
    );
  }
  let values: number[];
  try {
    values = valuesOf(text.slice(KEY_TEXT_PREFIX.length), KEY_TEXT_PREFIX.length + 1);
  } catch (error) {
    if (!(error instanceof KeyTextError)) throw error;
    throw new KeyTextError(error.problem, `not a valid key text: ${error.message}`);
  }
  // Every key text has the same length, so a character lost or added is reported as
  // such; and Bech32's blind spot (a "q" inserted or deleted before a final "p", which
  // keeps the checksum valid) can never decode to a key.
  if (text.length !== KEY_TEXT_CHARACTERS) {
    const difference = text.length - KEY_TEXT_CHARACTERS;
    const what =
      difference < 0 ? `${-difference} character(s) short` : `${difference} character(s) long`;
    throw new KeyTextError(
      "length",
      `not a valid key text: it is ${what} (a key text is ${KEY_TEXT_CHARACTERS} characters)`,
    );
  }
  if (!hasValidChecksum(KEY_TEXT_HRP, values)) {
    throw new KeyTextError(
      "checksum",
      "not a valid key text: its checksum does not match (a character is mistyped, or two are swapped)",
    );
  }
  const key = valuesToBytes(values.slice(0, -CHECKSUM_CHARACTERS));
  if (key?.length !== MASTER_KEY_BYTES) {
    throw new KeyTextError(
      "padding",
      `not a valid key text: it does not encode ${MASTER_KEY_BYTES} bytes (its last data character has bits set past the key)`,
    );
  }
  return key;
}
