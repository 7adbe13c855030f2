import { ErrorCode, InternalError } from "../../errors.js";
import { BASE_PATTERNS } from "./handshake-patterns.js";

/** A token of a message pattern (§5.3, §9.2). */
export type Token = "e" | "s" | "ee" | "es" | "se" | "ss" | "psk";

/** A token of a pre-message pattern (§7.1). */
export type PreMessageToken = "e" | "s";

/** A handshake pattern (§7.1), its modifiers applied. */
export interface HandshakePattern {
  /** The handshake pattern name section (§8.1), e.g. `NNpsk0`. */
  readonly name: string;
  /** A one-way pattern (§7.4): only the initiator ever sends, even after the handshake. */
  readonly oneWay: boolean;
  /** A PSK handshake (§9.2): it has a `psk` token, and `e` also calls MixKey. */
  readonly psk: boolean;
  /** The number of `psk` tokens: how many PSKs the parties supply, in token order. */
  readonly pskCount: number;
  /** What the responder knows of the initiator's keys beforehand, hashed first. */
  readonly initiatorPreMessage: readonly PreMessageToken[];
  /** What the initiator knows of the responder's keys beforehand. */
  readonly responderPreMessage: readonly PreMessageToken[];
  /** The message patterns; the initiator sends the even-numbered ones (0, 2, ...). */
  readonly messages: readonly (readonly Token[])[];
}

const TOKENS: ReadonlySet<string> = new Set<Token>(["e", "s", "ee", "es", "se", "ss", "psk"]);
const PRE_MESSAGE_TOKENS: ReadonlySet<string> = new Set<PreMessageToken>(["e", "s"]);
const PRE_MESSAGE_END = "...";
const INITIATOR_ARROW = "->";
const RESPONDER_ARROW = "<-";

/** A base name (§8.1: uppercase letters and numerals), then `psk` modifiers (§9.4). */
const NAME_SECTION = /^([A-Z][A-Z0-9]*)((?:psk(?:0|[1-9][0-9]*))(?:\+psk(?:0|[1-9][0-9]*))*)?$/;
const PSK_MODIFIER = /^psk(0|[1-9][0-9]*)$/;

const basePatterns = new Map(Object.entries(BASE_PATTERNS));
const resolved = new Map<string, HandshakePattern>();

/** The names of the base patterns this implementation knows: §7.4, §7.5 and §18.1. */
export const BASE_PATTERN_NAMES: readonly string[] = [...basePatterns.keys()];

/**
 * The handshake pattern of a handshake pattern name section (§8.1): one of the spec's
 * one-way, fundamental or deferred patterns, with any `psk` modifiers applied (§9.4),
 * e.g. `NNpsk0`, `XXpsk3` or `XXpsk0+psk3`.
 *
 * [N-PSK-MOD] `psk0` puts a `psk` token at the start of the first message, `pskN` at the
 * end of the N-th; modifiers are listed in increasing order, each once. Any of them may
 * be applied to any of these patterns (§9.4): every party's first message starts with
 * its `e`, so the validity rule of §9.3 holds [N-PSK-VALID] (a test checks it).
 *
 * @throws {InternalError} INTERNAL when the name is not a known pattern with valid
 *   modifiers (names come from the application, never from the network).
 */
export function handshakePattern(name: string): HandshakePattern {
  const known = resolved.get(name);
  if (known !== undefined) return known;
  const match = NAME_SECTION.exec(name);
  const baseName = match?.[1] ?? "";
  const lines = basePatterns.get(baseName);
  if (match === null || lines === undefined) {
    throw new InternalError(ErrorCode.INTERNAL, `unknown Noise handshake pattern "${name}"`);
  }
  const base = parseBase(baseName, lines);
  const modifiers = match[2] === undefined ? [] : match[2].split("+");
  const pattern = applyPskModifiers(name, base, modifiers);
  resolved.set(name, pattern);
  return pattern;
}

function parseBase(name: string, lines: readonly string[]): HandshakePattern {
  const end = lines.indexOf(PRE_MESSAGE_END);
  const preLines = end === -1 ? [] : lines.slice(0, end);
  const messageLines = end === -1 ? lines : lines.slice(end + 1);
  let initiatorPreMessage: PreMessageToken[] = [];
  let responderPreMessage: PreMessageToken[] = [];
  for (const line of preLines) {
    const [arrow, tokens] = parseLine(name, line, PRE_MESSAGE_TOKENS);
    // The initiator's pre-message is listed first (§7.1).
    if (arrow === INITIATOR_ARROW && responderPreMessage.length === 0) {
      initiatorPreMessage = tokens.filter(isPreMessageToken);
    } else if (arrow === RESPONDER_ARROW) {
      responderPreMessage = tokens.filter(isPreMessageToken);
    } else {
      throw badPattern(name, `pre-message "${line}" out of order`);
    }
  }
  const messages = messageLines.map((line, index) => {
    const [arrow, tokens] = parseLine(name, line, TOKENS);
    // The initiator sends first, then the parties alternate (§7.1).
    if (arrow !== (index % 2 === 0 ? INITIATOR_ARROW : RESPONDER_ARROW)) {
      throw badPattern(name, `message ${index + 1} goes the wrong way`);
    }
    return tokens.filter(isToken);
  });
  if (messages.length === 0) throw badPattern(name, "no messages");
  return {
    name,
    // One-way patterns are named with a single character (§7.4).
    oneWay: name.length === 1,
    psk: false,
    pskCount: 0,
    initiatorPreMessage,
    responderPreMessage,
    messages,
  };
}

function parseLine(
  name: string,
  line: string,
  allowed: ReadonlySet<string>,
): [arrow: string, tokens: string[]] {
  const arrow = line.slice(0, 2);
  const tokens = line.slice(3).split(", ");
  if (
    (arrow !== INITIATOR_ARROW && arrow !== RESPONDER_ARROW) ||
    line[2] !== " " ||
    tokens.some((token) => !allowed.has(token))
  ) {
    throw badPattern(name, `cannot read "${line}"`);
  }
  return [arrow, tokens];
}

function applyPskModifiers(
  name: string,
  base: HandshakePattern,
  modifiers: readonly string[],
): HandshakePattern {
  if (modifiers.length === 0) return base;
  const messages = base.messages.map((tokens) => [...tokens]);
  let previous = -1;
  for (const modifier of modifiers) {
    const position = Number(PSK_MODIFIER.exec(modifier)?.[1]);
    if (!(position > previous) || position > messages.length) {
      throw badPattern(name, `modifier ${modifier} is out of order or past the last message`);
    }
    previous = position;
    if (position === 0) messages[0]?.unshift("psk");
    else messages[position - 1]?.push("psk");
  }
  return { ...base, name, psk: true, pskCount: modifiers.length, messages };
}

function isToken(token: string): token is Token {
  return TOKENS.has(token);
}

function isPreMessageToken(token: string): token is PreMessageToken {
  return PRE_MESSAGE_TOKENS.has(token);
}

function badPattern(name: string, reason: string): InternalError {
  return new InternalError(ErrorCode.INTERNAL, `Noise handshake pattern "${name}": ${reason}`);
}
