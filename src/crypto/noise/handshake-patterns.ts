/**
 * The handshake patterns of the Noise specification (revision 34), in its own notation
 * so each one can be checked against the text line by line: pre-message lines, then
 * "...", then the message lines; `->` is sent by the initiator, `<-` by the responder.
 * Parsed by {@link handshakePattern}.
 */
export const BASE_PATTERNS: Readonly<Record<string, readonly string[]>> = {
  // §7.4: one-way patterns.
  N: ["<- s", "...", "-> e, es"],
  K: ["-> s", "<- s", "...", "-> e, es, ss"],
  X: ["<- s", "...", "-> e, es, s, ss"],

  // §7.5: the fundamental interactive patterns.
  NN: ["-> e", "<- e, ee"],
  KN: ["-> s", "...", "-> e", "<- e, ee, se"],
  NK: ["<- s", "...", "-> e, es", "<- e, ee"],
  KK: ["-> s", "<- s", "...", "-> e, es, ss", "<- e, ee, se"],
  NX: ["-> e", "<- e, ee, s, es"],
  KX: ["-> s", "...", "-> e", "<- e, ee, se, s, es"],
  XN: ["-> e", "<- e, ee", "-> s, se"],
  IN: ["-> e, s", "<- e, ee, se"],
  XK: ["<- s", "...", "-> e, es", "<- e, ee", "-> s, se"],
  IK: ["<- s", "...", "-> e, es, s, ss", "<- e, ee, se"],
  XX: ["-> e", "<- e, ee, s, es", "-> s, se"],
  IX: ["-> e, s", "<- e, ee, se, s, es"],

  // §18.1: the deferred patterns.
  NK1: ["<- s", "...", "-> e", "<- e, ee, es"],
  NX1: ["-> e", "<- e, ee, s", "-> es"],
  X1N: ["-> e", "<- e, ee", "-> s", "<- se"],
  X1K: ["<- s", "...", "-> e, es", "<- e, ee", "-> s", "<- se"],
  XK1: ["<- s", "...", "-> e", "<- e, ee, es", "-> s, se"],
  X1K1: ["<- s", "...", "-> e", "<- e, ee, es", "-> s", "<- se"],
  X1X: ["-> e", "<- e, ee, s, es", "-> s", "<- se"],
  XX1: ["-> e", "<- e, ee, s", "-> es, s, se"],
  X1X1: ["-> e", "<- e, ee, s", "-> es, s", "<- se"],
  K1N: ["-> s", "...", "-> e", "<- e, ee", "-> se"],
  K1K: ["-> s", "<- s", "...", "-> e, es", "<- e, ee", "-> se"],
  KK1: ["-> s", "<- s", "...", "-> e", "<- e, ee, se, es"],
  K1K1: ["-> s", "<- s", "...", "-> e", "<- e, ee, es", "-> se"],
  K1X: ["-> s", "...", "-> e", "<- e, ee, s, es", "-> se"],
  KX1: ["-> s", "...", "-> e", "<- e, ee, se, s", "-> es"],
  K1X1: ["-> s", "...", "-> e", "<- e, ee, s", "-> se, es"],
  I1N: ["-> e, s", "<- e, ee", "-> se"],
  I1K: ["<- s", "...", "-> e, es, s", "<- e, ee", "-> se"],
  IK1: ["<- s", "...", "-> e, s", "<- e, ee, se, es"],
  I1K1: ["<- s", "...", "-> e, s", "<- e, ee, es", "-> se"],
  I1X: ["-> e, s", "<- e, ee, s, es", "-> se"],
  IX1: ["-> e, s", "<- e, ee, se, s", "-> es"],
  I1X1: ["-> e, s", "<- e, ee, s", "-> se, es"],
};
