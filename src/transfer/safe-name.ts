/**
 * Turning a name chosen by a peer into a safe base name for a file in the save
 * directory. The result never contains a path separator, never starts with a dot,
 * contains no control or reserved characters and fits common file-system limits.
 */

/** Longest stored base name, in UTF-8 bytes (most file systems allow 255). */
export const MAX_SAFE_NAME_BYTES = 200;

// Windows refuses these device names whatever the extension; refuse them everywhere so
// a save directory can be copied to any system.
const RESERVED_WINDOWS_NAMES = /^(con|prn|aux|nul|com[0-9]|lpt[0-9])(\..*)?$/i;

// C0 and C1 controls, DEL, and characters reserved on common file systems.
const UNSAFE_CHARACTERS = /[\u0000-\u001f\u007f-\u009f<>:"|?*\\/]/g;

// Bidirectional overrides and zero-width characters can make a name display as another.
const INVISIBLE_CHARACTERS = /[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g;

/**
 * Reduces `name` to a safe base name; `fallback` is used when nothing usable remains.
 * Only the last path component counts, so `../../etc/passwd` becomes `passwd`.
 */
export function safeBaseName(name: string, fallback: string): string {
  const lastComponent = name.split(/[/\\]/).pop() ?? "";
  let cleaned = lastComponent
    .normalize("NFC")
    .replace(UNSAFE_CHARACTERS, "_")
    .replace(INVISIBLE_CHARACTERS, "")
    .replace(/^[.\s]+/, "")
    .replace(/[.\s]+$/, "");
  if (RESERVED_WINDOWS_NAMES.test(cleaned)) cleaned = `_${cleaned}`;
  cleaned = truncateUtf8(cleaned, MAX_SAFE_NAME_BYTES);
  return cleaned === "" ? fallback : cleaned;
}

/** Cuts `text` to at most `maxBytes` of UTF-8, keeping its extension when it has a short one. */
function truncateUtf8(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text, "utf8") <= maxBytes) return text;
  const dot = text.lastIndexOf(".");
  const extension = dot > 0 && text.length - dot <= 16 ? text.slice(dot) : "";
  let stem = text.slice(0, text.length - extension.length);
  const budget = maxBytes - Buffer.byteLength(extension, "utf8");
  // Remove whole code points so no surrogate pair is split.
  const codePoints = Array.from(stem);
  while (Buffer.byteLength(stem, "utf8") > budget) {
    codePoints.pop();
    stem = codePoints.join("");
  }
  return stem + extension;
}

/**
 * The candidate names tried in turn so that nothing is overwritten:
 * `notes.txt`, `notes-1.txt`, `notes-2.txt`, ...
 */
export function numberedName(baseName: string, attempt: number): string {
  if (attempt === 0) return baseName;
  const dot = baseName.lastIndexOf(".");
  return dot > 0
    ? `${baseName.slice(0, dot)}-${attempt}${baseName.slice(dot)}`
    : `${baseName}-${attempt}`;
}
