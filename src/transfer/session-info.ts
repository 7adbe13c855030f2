/**
 * A connection as both sides show it [H-FINGERPRINT]: `GbClient.session`, and the
 * `session` of every item and failure a server reports.
 */
export interface SessionInfo {
  /** True for a Noise session: everything after the handshake was encrypted. */
  readonly encrypted: boolean;
  /** The session fingerprint (`7f3a-91c2-0b4e-d8a1`), the same on both sides; null when plain. */
  readonly fingerprint: string | null;
}
