export {
  FRAME_HEADER_BYTES,
  encodeFrame,
  encodeFrameHeader,
  type Frame,
  type ParsedFrame,
} from "./frame.js";
export { FrameParser, type FrameLimits, type ParsedUnit } from "./frame-parser.js";
export { FrameWriter } from "./frame-writer.js";
export { PREAMBLE_BYTES, PREAMBLE_MAGIC, encodePreamble } from "./preamble.js";
