/**
 * Making text from the network safe to show on a terminal: control characters (which
 * could move the cursor, change colours or retitle the window), C1 controls, and
 * invisible or direction-changing characters are shown as visible escapes.
 */

// C0 except tab and newline, DEL, C1, zero-width and bidirectional controls, BOM,
// line/paragraph separators, and lone surrogates.
const UNSAFE =
  /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

// The same, but newline and tab are escaped too: for one-line fields such as names.
const UNSAFE_INLINE =
  /[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

function escapeOne(char: string): string {
  return `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/** Escapes unsafe characters in multi-line text; keeps newlines and tabs. */
export function escapeTerminalText(text: string): string {
  return text.replace(UNSAFE, escapeOne);
}

/** Escapes unsafe characters in a single-line field, newlines and tabs included. */
export function escapeTerminalLine(text: string): string {
  return text.replace(UNSAFE_INLINE, escapeOne);
}
