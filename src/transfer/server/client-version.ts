import { ErrorCode, ProtocolError } from "../../errors.js";
import { PROTOCOL_VERSION } from "../../protocol/constants.js";

/**
 * [P-PREAMBLE] Checks the version of a client's preamble: an older client is told, in
 * the clear, that it is the one to upgrade.
 * @throws {ProtocolError} UNSUPPORTED_VERSION
 */
export function checkClientVersion(version: number): void {
  if (version === PROTOCOL_VERSION) return;
  throw new ProtocolError(
    ErrorCode.UNSUPPORTED_VERSION,
    `the client speaks protocol version ${version} and this server version ${PROTOCOL_VERSION}: ` +
      (version < PROTOCOL_VERSION
        ? "the client is older and must be upgraded"
        : "the server is older and must be upgraded"),
  );
}
