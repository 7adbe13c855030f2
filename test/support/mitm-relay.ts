/**
 * A man in the middle, as its own process, for tests across network namespaces: a TCP
 * relay between a gb-client and a gb-server that cuts each direction into the units of
 * protocol version 2 (preamble, cleartext frames until the handshake is done, then
 * records; test/support/unit-splitter.ts) and can tamper with one of them, capture both
 * directions to files, or replay a captured client stream on its own.
 *
 * It is bundled (esbuild) and started inside a namespace with one argument, a JSON plan:
 *
 * - `{"mode":"relay","listen":{"host"},"target":{"host","port"},"capture"?:dir,"tamper"?:…}`
 *   listens on a free port of `listen.host` and relays each connection to `target`.
 *   With `capture`, what crossed each connection is written to `<dir>/<n>-c2s.bin` and
 *   `<n>-s2c.bin` (n from 1). Without `tamper` it forwards bytes as they come (a plain
 *   session too); with one it acts on one unit: `{"action":"flip"|"drop"|"swap"|"truncate",
 *   "direction":"c2s"|"s2c","record":n}` flips a bit of record n's ciphertext, drops it,
 *   swaps it with record n+1, or sends half of it and then ends that direction;
 *   `{"action":"flip-handshake","direction":…}` flips a bit of the HANDSHAKE message
 *   going that way; `{"action":"alter-hello"}` changes one digit of HELLO's scryptSalt.
 * - `{"mode":"replay","target":{…},"input":file,"output":file}` connects to `target`,
 *   sends the bytes of `input` as one client would (then half-closes) and writes what
 *   came back to `output`.
 *
 * It reports on stdout, one JSON object a line: `{"event":"listening","port":n}`, then
 * `{"event":"closed","id":n}` when a relayed connection has ended both ways; or
 * `{"event":"replayed","answerBytes":n}`.
 */
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { connect, createServer, type Socket } from "node:net";
import path from "node:path";
import { FRAME_HEADER_BYTES } from "../../src/framing/frame.js";
import { FrameType } from "../../src/protocol/constants.js";
import {
  CLIENT_OPENING_FRAMES,
  SERVER_OPENING_FRAMES,
  splitter,
  type Direction,
  type RecordHook,
} from "./unit-splitter.js";

type Way = "c2s" | "s2c";
type RecordAction = "flip" | "drop" | "swap" | "truncate";

type Tamper =
  | { readonly action: RecordAction; readonly direction: Way; readonly record: number }
  | { readonly action: "flip-handshake"; readonly direction: Way }
  | { readonly action: "alter-hello" };

interface Address {
  readonly host: string;
  readonly port: number;
}

type Plan =
  | {
      readonly mode: "relay";
      readonly listen: string;
      readonly target: Address;
      readonly capture: string | undefined;
      readonly tamper: Tamper | undefined;
    }
  | {
      readonly mode: "replay";
      readonly target: Address;
      readonly input: string;
      readonly output: string;
    };

/** The ciphertext's first byte, after the record's 2-byte length. */
const RECORD_CIPHERTEXT_OFFSET = 2;
/** The first byte of a HANDSHAKE message: the sender's ephemeral public key. */
const HANDSHAKE_MESSAGE_OFFSET = FRAME_HEADER_BYTES;
const SALT_MEMBER = '"scryptSalt":"';

function fail(message: string): never {
  throw new Error(`mitm-relay: ${message}`);
}

function record(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value))
    fail(`${what}: not an object`);
  return Object.fromEntries(Object.entries(value));
}

function text(value: unknown, what: string): string {
  if (typeof value !== "string") fail(`${what}: not a string`);
  return value;
}

function count(value: unknown, what: string): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0)
    fail(`${what}: not a count`);
  return value;
}

function way(value: unknown): Way {
  if (value === "c2s" || value === "s2c") return value;
  return fail("tamper.direction: c2s or s2c");
}

function address(value: unknown, what: string): Address {
  const fields = record(value, what);
  return {
    host: text(fields["host"], `${what}.host`),
    port: count(fields["port"], `${what}.port`),
  };
}

function tamper(value: unknown): Tamper | undefined {
  if (value === undefined) return undefined;
  const fields = record(value, "tamper");
  const action = fields["action"];
  switch (action) {
    case "flip":
    case "drop":
    case "swap":
    case "truncate":
      return {
        action,
        direction: way(fields["direction"]),
        record: count(fields["record"], "tamper.record"),
      };
    case "flip-handshake":
      return { action, direction: way(fields["direction"]) };
    case "alter-hello":
      return { action };
    default:
      return fail(`tamper.action: ${String(action)}`);
  }
}

/** The plan in argv, checked: it comes from another process. */
function parsePlan(argument: string | undefined): Plan {
  const fields = record(JSON.parse(argument ?? "null"), "plan");
  if (fields["mode"] === "relay") {
    const capture = fields["capture"];
    return {
      mode: "relay",
      listen: text(record(fields["listen"], "listen")["host"], "listen.host"),
      target: address(fields["target"], "target"),
      capture: capture === undefined ? undefined : text(capture, "capture"),
      tamper: tamper(fields["tamper"]),
    };
  }
  if (fields["mode"] === "replay") {
    return {
      mode: "replay",
      target: address(fields["target"], "target"),
      input: text(fields["input"], "input"),
      output: text(fields["output"], "output"),
    };
  }
  return fail("mode: relay or replay");
}

/** One event line, shaped as the programs' --json events are (`event`, then `time`). */
function report({ event, ...rest }: { event: string } & Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ event, time: new Date().toISOString(), ...rest })}\n`);
}

/** Flips the lowest bit of `bytes[offset]`, in a copy. */
function flipped(bytes: Buffer, offset: number): Buffer {
  const copy = Buffer.from(bytes);
  copy[offset] = (copy[offset] ?? 0) ^ 1;
  return copy;
}

/** HELLO with the first digit of its salt changed (still valid JSON and hex). */
function alteredHello(frame: Buffer): Buffer {
  if (frame[0] !== FrameType.HELLO) return frame;
  const at = frame.indexOf(SALT_MEMBER);
  if (at < 0) fail("no scryptSalt in HELLO");
  const copy = Buffer.from(frame);
  const digit = at + SALT_MEMBER.length;
  copy[digit] = copy[digit] === 0x30 ? 0x31 : 0x30; // "0" <-> another hex digit
  return copy;
}

/** What a tamper does to one record, as a {@link RecordHook}; undefined: forward all. */
function recordHook(tamperWith: Tamper | undefined, thisWay: Way): RecordHook | undefined {
  if (tamperWith === undefined || !("record" in tamperWith) || tamperWith.direction !== thisWay) {
    return undefined;
  }
  let held: Buffer | undefined;
  let cut = false;
  return (bytes, index, direction) => {
    if (cut) return;
    if (index !== tamperWith.record) {
      direction.forward(bytes);
      // A swap sends the held record after the one that followed it.
      if (held !== undefined) direction.forward(held);
      held = undefined;
      return;
    }
    switch (tamperWith.action) {
      case "flip":
        direction.forward(flipped(bytes, RECORD_CIPHERTEXT_OFFSET));
        return;
      case "drop":
        return;
      case "swap":
        held = bytes;
        return;
      case "truncate":
        cut = true;
        direction.forward(bytes.subarray(0, Math.ceil(bytes.length / 2)));
        direction.end();
        return;
    }
  };
}

/** What a tamper does to the cleartext opening going `thisWay`. */
function openingHook(tamperWith: Tamper | undefined, thisWay: Way): (bytes: Buffer) => Buffer {
  if (tamperWith?.action === "alter-hello" && thisWay === "s2c") return alteredHello;
  if (tamperWith?.action === "flip-handshake" && tamperWith.direction === thisWay) {
    return (bytes) =>
      bytes[0] === FrameType.HANDSHAKE && bytes.length > HANDSHAKE_MESSAGE_OFFSET
        ? flipped(bytes, HANDSHAKE_MESSAGE_OFFSET)
        : bytes;
  }
  return (bytes) => bytes;
}

function relay(plan: Extract<Plan, { mode: "relay" }>): void {
  let connections = 0;
  const server = createServer({ allowHalfOpen: true }, (client) => {
    const id = ++connections;
    const upstream = connect({ ...plan.target, allowHalfOpen: true });
    const sides: Record<Way, { from: Socket; to: Socket; openingFrames: number }> = {
      c2s: { from: client, to: upstream, openingFrames: CLIENT_OPENING_FRAMES },
      s2c: { from: upstream, to: client, openingFrames: SERVER_OPENING_FRAMES },
    };
    for (const [thisWay, { from, to, openingFrames }] of Object.entries(sides)) {
      const direction: Direction = {
        forward: (bytes) => {
          if (!to.destroyed && !to.writableEnded) to.write(bytes);
        },
        end: () => {
          if (!to.destroyed) to.end();
        },
      };
      const currentWay = way(thisWay);
      // Untouched, a direction is forwarded as it comes: a plain session is not records.
      const feed =
        plan.tamper === undefined
          ? (chunk: Buffer): void => {
              direction.forward(chunk);
            }
          : splitter(
              openingFrames,
              direction,
              openingHook(plan.tamper, currentWay),
              recordHook(plan.tamper, currentWay),
            );
      from.on("data", (chunk: Buffer) => {
        if (plan.capture !== undefined) {
          appendFileSync(path.join(plan.capture, `${String(id)}-${currentWay}.bin`), chunk);
        }
        feed(chunk);
      });
      from.on("end", () => {
        direction.end();
      });
      // A reset on one side ends the other gracefully: what was already relayed to it (a
      // server's last ERROR, say) still arrives, and its bytes are still read (and
      // dropped), so that it is not reset in turn before it read them.
      from.on("error", () => {
        direction.end();
      });
    }
    let open = 2;
    const closed = (): void => {
      open--;
      if (open === 0) report({ event: "closed", id });
      else {
        // One side is gone: the other gets what is queued for it, then an end.
        client.end();
        upstream.end();
      }
    };
    client.once("close", closed);
    upstream.once("close", closed);
  });
  server.listen(0, plan.listen, () => {
    const bound = server.address();
    report({
      event: "listening",
      port: typeof bound === "object" && bound !== null ? bound.port : 0,
    });
  });
}

function replay(plan: Extract<Plan, { mode: "replay" }>): void {
  const input = readFileSync(plan.input);
  const answer: Buffer[] = [];
  const socket = connect({ ...plan.target, allowHalfOpen: true }, () => {
    socket.end(input);
  });
  socket.on("data", (chunk: Buffer) => answer.push(chunk));
  socket.on("error", () => undefined);
  socket.on("close", () => {
    const bytes = Buffer.concat(answer);
    writeFileSync(plan.output, bytes);
    report({ event: "replayed", answerBytes: bytes.length });
  });
}

const plan = parsePlan(process.argv[2]);
if (plan.mode === "relay") relay(plan);
else replay(plan);
