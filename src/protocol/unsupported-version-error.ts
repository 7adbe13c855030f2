import { ErrorCode, ProtocolError } from "../errors.js";
import { PROTOCOL_VERSION } from "./constants.js";

/**
 * UNSUPPORTED_VERSION found here: the server's preamble announced another protocol
 * version [P-PREAMBLE]. It keeps that version, so that the one who shows the error can
 * say which side is older.
 */
export class UnsupportedVersionError extends ProtocolError {
  /** The version the server announced. */
  readonly peerVersion: number;

  constructor(peerVersion: number) {
    super(
      ErrorCode.UNSUPPORTED_VERSION,
      `the server speaks protocol version ${peerVersion} and this client version ${PROTOCOL_VERSION}: ` +
        `the ${peerVersion < PROTOCOL_VERSION ? "server" : "client"} is older`,
    );
    this.peerVersion = peerVersion;
  }

  /** True when the server runs an older version than this client. */
  get serverIsOlder(): boolean {
    return this.peerVersion < PROTOCOL_VERSION;
  }
}
