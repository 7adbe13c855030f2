import { ErrorCode, ProtocolError } from "../../errors.js";

/** UNEXPECTED_FRAME: a frame of `type` where [S-SEQUENCE] allows only `expected`. */
export function unexpectedFrame(type: number, expected: string): ProtocolError {
  return new ProtocolError(
    ErrorCode.UNEXPECTED_FRAME,
    `unexpected frame type 0x${type.toString(16).padStart(2, "0")}; expected ${expected}`,
  );
}
