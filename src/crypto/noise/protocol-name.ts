import { ErrorCode, InternalError } from "../../errors.js";
import { NOISE_SUITE } from "./constants.js";

const PREFIX = "Noise_";
const SUFFIX = `_${NOISE_SUITE}`;

/**
 * The Noise protocol name of a handshake pattern name section with our cipher suite
 * (§8): `Noise_NNpsk0_25519_AESGCM_SHA256` for `NNpsk0` [N-SUITE].
 */
export function protocolName(patternName: string): string {
  return `${PREFIX}${patternName}${SUFFIX}`;
}

/**
 * The handshake pattern name section of a full protocol name, which must use our suite
 * `25519_AESGCM_SHA256` [N-SUITE]: `XXpsk3` for `Noise_XXpsk3_25519_AESGCM_SHA256`.
 * @throws {InternalError} INTERNAL for another suite or a name that is not of that form.
 */
export function patternNameOf(name: string): string {
  const patternName = name.slice(PREFIX.length, name.length - SUFFIX.length);
  if (!name.startsWith(PREFIX) || !name.endsWith(SUFFIX) || !/^[A-Za-z0-9+]+$/.test(patternName)) {
    throw new InternalError(
      ErrorCode.INTERNAL,
      `"${name}" is not a Noise protocol name with the suite ${NOISE_SUITE}`,
    );
  }
  return patternName;
}
