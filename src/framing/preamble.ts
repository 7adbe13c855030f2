/**
 * Each side opens with an 8-byte preamble: the magic `GBTP\r\n` and a u16 big-endian
 * protocol version. PROTOCOL.md [P-PREAMBLE].
 */

/** "GBTP\r\n": the CR LF pair makes a text-mode mangling of the stream fail at once. */
export const PREAMBLE_MAGIC: Readonly<Buffer> = Buffer.from("GBTP\r\n", "latin1");
export const PREAMBLE_BYTES = 8;

/**
 * Encodes the preamble announcing `version`, for peers that build their bytes by hand;
 * {@link FrameWriter} stages its own.
 */
export function encodePreamble(version: number): Buffer {
  const preamble = Buffer.allocUnsafe(PREAMBLE_BYTES);
  PREAMBLE_MAGIC.copy(preamble, 0);
  preamble.writeUInt16BE(version, PREAMBLE_MAGIC.length);
  return preamble;
}
