// Characters a reader could not see or tell apart, written as \uXXXX escapes: controls,
// format characters, separators and spaces other than U+0020, combining marks,
// default-ignorable characters, and U+FFFD.
const HARD_TO_SEE = /[\p{Cc}\p{Cf}\p{Z}\p{Mn}\p{Default_Ignorable_Code_Point}\ufffd]/gu;

/** A JSON string literal of `text`, with characters that are hard to see escaped. */
function literal(text: string): string {
  return JSON.stringify(text).replace(HARD_TO_SEE, (char) =>
    char === " " ? char : `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`,
  );
}

/**
 * How PROTOCOL.md's vector tables print a string: JSON string literals joined by ` + `,
 * a run of 5 or more of one character as `"c" × n`, each abbreviation (such as the
 * 64 hex digits of a key) as its symbol, in code quotes, with `|` escaped for the table.
 */
export function docString(
  text: string,
  abbreviations: ReadonlyMap<string, string> = new Map(),
): string {
  const parts: string[] = [];
  let run = "";
  const flush = (): void => {
    if (run !== "") parts.push(literal(run));
    run = "";
  };
  const chars = Array.from(text);
  for (let i = 0; i < chars.length;) {
    const rest = abbreviations.size === 0 ? "" : chars.slice(i).join("");
    const abbreviation = [...abbreviations].find(([full]) => rest.startsWith(full));
    if (abbreviation !== undefined) {
      flush();
      parts.push(abbreviation[1]);
      i += Array.from(abbreviation[0]).length;
      continue;
    }
    let j = i;
    while (j < chars.length && chars[j] === chars[i]) j++;
    if (j - i >= 5) {
      flush();
      parts.push(`${literal(chars[i]!)} × ${j - i}`);
    } else {
      run += chars.slice(i, j).join("");
    }
    i = j;
  }
  flush();
  return `\`${parts.length === 0 ? '""' : parts.join(" + ")}\``.replaceAll("|", "\\|");
}
