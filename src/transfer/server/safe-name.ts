import { randomInt } from "node:crypto";

/**
 * Turning a name chosen by a peer into the base name an item is stored under in the save
 * directory, by the ordered steps of PROTOCOL.md [V-NAME]. The result never contains a
 * path separator, never starts with a dot or white space, never ends with a dot or white
 * space, contains no control, reserved or invisible characters, is no Windows device
 * name and fits common file-system limits. The order matters: no step undoes what an
 * earlier one ensured.
 */

/** Longest stored base name before numbering, in UTF-8 bytes (most file systems allow 255). */
export const MAX_SAFE_NAME_BYTES = 200;

/** Longest extension a cut keeps, in UTF-8 bytes, its dot(s) included. */
const MAX_KEPT_EXTENSION_BYTES = 16;

/** What an item is, for the fallback name and a dictionary's `.json`. */
export type StoredKind = "file" | "dict";

/** [V-NAME] step 7: the name that stands in for one that comes out empty. */
const FALLBACK_NAME: Readonly<Record<StoredKind, string>> = {
  file: "file",
  dict: "dictionary",
};

/** [V-NAME] step 8: a dictionary is stored as JSON, whatever its wire format. */
const DICT_EXTENSION = ".json";

// Step 1: a lone surrogate (in a /u pattern, a surrogate matches only when unpaired).
const LONE_SURROGATE = /\p{Cs}/gu;
// Step 4: only what follows the last separator of either convention is kept.
const LAST_SEPARATOR = /^.*[/\\]/su;
// Step 5: C0 controls, DEL, C1 controls, and characters Windows reserves.
const UNSAFE_CHARACTERS = /[\u0000-\u001f\u007f-\u009f<>:"|?*]/gu;
// Step 2: characters that display as nothing, or reorder what follows (Bidi_Control is a
// subset of Default_Ignorable_Code_Point today; naming both keeps the set explicit).
const INVISIBLE_CHARACTERS = /[\p{Default_Ignorable_Code_Point}\p{Bidi_Control}]/gu;
// Steps 6 and 9: dots and Unicode White_Space at either end.
const LEADING_DOTS_AND_SPACE = /^[.\p{White_Space}]+/u;
const TRAILING_DOTS_AND_SPACE = /[.\p{White_Space}]+$/u;
const TRAILING_SPACE = /\p{White_Space}+$/u;
// Step 10: names Windows opens as devices, whatever follows the first dot.
const WINDOWS_DEVICE_NAMES = /^(?:CON|PRN|AUX|NUL|COM[0-9]|LPT[0-9]|CONIN\$|CONOUT\$)$/;
// [V-NAME-EXT] a second-to-last part `tar` makes a two-part extension (.tar.gz).
const TAR_PART = /\.tar$/i;

/**
 * [V-NAME-EXT] Where the extension of `name` starts: at its last dot, or at the dot
 * before it when the part between the two is `tar` (any case); a dot at the start of the
 * name never starts an extension. `name.length` when there is none.
 */
export function extensionStart(name: string): number {
  const last = name.lastIndexOf(".");
  if (last <= 0) return name.length;
  const head = name.slice(0, last);
  if (TAR_PART.test(head)) {
    const tarDot = last - ".tar".length;
    if (tarDot > 0) return tarDot;
  }
  return last;
}

function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, "utf8");
}

/**
 * [V-NAME] steps 9 and 11: cuts `name` to at most {@link MAX_SAFE_NAME_BYTES} at a code
 * point boundary, keeping its extension when that is at most
 * {@link MAX_KEPT_EXTENSION_BYTES}, then removes the dots and white space the cut left at
 * the end.
 */
function cut(name: string): string {
  if (utf8Bytes(name) <= MAX_SAFE_NAME_BYTES) return name;
  const start = extensionStart(name);
  const extension =
    utf8Bytes(name.slice(start)) <= MAX_KEPT_EXTENSION_BYTES ? name.slice(start) : "";
  const budget = MAX_SAFE_NAME_BYTES - utf8Bytes(extension);
  let stem = "";
  let stemBytes = 0;
  for (const codePoint of name.slice(0, name.length - extension.length)) {
    const size = utf8Bytes(codePoint);
    if (stemBytes + size > budget) break;
    stem += codePoint;
    stemBytes += size;
  }
  return `${stem}${extension}`.replace(TRAILING_DOTS_AND_SPACE, "");
}

/** [V-NAME] step 10: the part before the first dot, trailing white space removed. */
function isWindowsDeviceName(name: string): boolean {
  const dot = name.indexOf(".");
  const head = (dot < 0 ? name : name.slice(0, dot)).replace(TRAILING_SPACE, "");
  // Default (locale-independent) upper-casing: "ı" (dotless i) upper-cases to "I".
  return WINDOWS_DEVICE_NAMES.test(head.toUpperCase());
}

/**
 * The base name an item named `name` is stored under, by the steps of PROTOCOL.md
 * [V-NAME] in their order. Only the last path component counts, so `../../etc/passwd`
 * becomes `passwd`; a name with nothing usable left becomes `file` (a file) or
 * `dictionary.json` (a dictionary).
 */
export function safeName(name: string, kind: StoredKind): string {
  return storedName(name, kind, FALLBACK_NAME[kind]);
}

function storedName(name: string, kind: StoredKind, fallback: string): string {
  // 1: well-formed first, so that what is stored and what the receipt says agree.
  let result = name.replace(LONE_SURROGATE, "\ufffd");
  // 2-3: invisibles go before NFKC (which never makes one), so that a removed one cannot
  // leave a sequence NFKC would still compose; NFKC before every check, so that
  // look-alikes (fullwidth "／", superscript "¹") are what they look like.
  result = result.replace(INVISIBLE_CHARACTERS, "").normalize("NFKC");
  result = result.replace(LAST_SEPARATOR, ""); // 4
  result = result.replace(UNSAFE_CHARACTERS, "_"); // 5
  result = result.replace(LEADING_DOTS_AND_SPACE, "").replace(TRAILING_DOTS_AND_SPACE, ""); // 6
  if (result === "") result = fallback; // 7
  if (kind === "dict") result = `${result.slice(0, extensionStart(result))}${DICT_EXTENSION}`; // 8
  result = cut(result); // 9
  // 10-11: after the cut, which could leave "CON" + spaces + ".txt"; the prefix can take
  // a 200-byte name to 201, so it is cut again.
  if (isWindowsDeviceName(result)) result = cut(`_${result}`);
  return result;
}

/**
 * [V-NAME-NUMBER] The candidate names tried in turn so that nothing is overwritten:
 * `notes.txt`, `notes-1.txt`, `notes-2.txt`, ...; `archive-1.tar.gz`; `README-1`. The
 * number goes before the extension ({@link extensionStart}).
 *
 * @param attempt 0 for the name itself, then the number to insert.
 */
export function numberedName(baseName: string, attempt: number): string {
  if (attempt === 0) return baseName;
  const start = extensionStart(baseName);
  return `${baseName.slice(0, start)}-${attempt}${baseName.slice(start)}`;
}

/** Numbered names (notes-1.txt, notes-2.txt …) tried before random suffixes take over. */
const NUMBERED_NAME_ATTEMPTS = 100;
/** Names tried in all before giving up [V-NAME-NUMBER]. */
export const MAX_NAME_ATTEMPTS = 200;
/** Random suffixes are drawn from 1 to this, inclusive: 2^32 - 1 [V-NAME-NUMBER]. */
const MAX_RANDOM_SUFFIX = 2 ** 32 - 1;

/**
 * [V-NAME-NUMBER] The name to try at `attempt` (0 .. {@link MAX_NAME_ATTEMPTS} - 1): the
 * name itself, then `-1` … `-99`, then random suffixes, which find a free name in one step
 * after many collisions (every stdin upload is named "stdin") instead of a linear search.
 */
export function candidateName(baseName: string, attempt: number): string {
  return attempt < NUMBERED_NAME_ATTEMPTS
    ? numberedName(baseName, attempt)
    : numberedName(baseName, 1 + randomInt(MAX_RANDOM_SUFFIX));
}
