import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { MAX_KEY_INPUT_BYTES, readKeyLine } from "../../src/cli/key-line-input.js";
import { CryptoError, ErrorCode, GbError, InputError } from "../../src/errors.js";
import { keyTextVectors } from "../crypto/key-text-vectors.js";
import { withTimeout, WAIT_MS } from "./fake-io.js";

const TEXT = keyTextVectors.keys[0]!.text;

function ended(input: string | Buffer): PassThrough {
  const stream = new PassThrough();
  stream.end(input);
  return stream;
}

async function failure(promise: Promise<unknown>): Promise<GbError> {
  const error: unknown = await withTimeout(
    promise.then(
      () => undefined,
      (e: unknown) => e,
    ),
    WAIT_MS,
    "readKeyLine",
  );
  expect(error).toBeInstanceOf(GbError);
  if (!(error instanceof GbError)) throw new Error("expected a GbError");
  return error;
}

describe("[KEY-TEXT] readKeyLine", () => {
  it.each([
    ["the line alone", TEXT],
    ["a trailing LF", `${TEXT}\n`],
    ["CRLF", `${TEXT}\r\n`],
    ["spaces, tabs and blank lines around", `\n \t${TEXT} \t\r\n\n`],
    ["exactly the limit", `${TEXT}${" ".repeat(MAX_KEY_INPUT_BYTES - TEXT.length)}`],
  ])("[KEY-TEXT] allows %s", async (_what, input) => {
    expect(await readKeyLine({ stream: ended(input), interactive: false })).toBe(TEXT);
  });

  it("reads the whole stream, in pieces of any size", async () => {
    const stream = new PassThrough();
    const reading = readKeyLine({ stream, interactive: false });
    for (const character of `${TEXT}\n`) stream.write(character);
    stream.end();
    expect(await withTimeout(reading, WAIT_MS, "readKeyLine")).toBe(TEXT);
  });

  it.each([
    ["nothing", "", ErrorCode.KEY_MISSING],
    ["only white space", " \r\n\t\n", ErrorCode.KEY_MISSING],
    ["two lines", `${TEXT}\n${TEXT}\n`, ErrorCode.KEY_INVALID],
    ["a CR inside", `${TEXT}\rx`, ErrorCode.KEY_INVALID],
    [
      "one byte over the limit",
      `${TEXT}${" ".repeat(MAX_KEY_INPUT_BYTES + 1 - TEXT.length)}`,
      ErrorCode.KEY_INVALID,
    ],
    ["invalid UTF-8", Buffer.from([0x47, 0xc0, 0x80]), ErrorCode.KEY_INVALID],
  ])("refuses %s (%s)", async (_what, input, code) => {
    const error = await failure(readKeyLine({ stream: ended(input), interactive: false }));
    expect(error).toBeInstanceOf(CryptoError);
    expect(error.code).toBe(code);
    expect(error.hint).toContain("gb-key export");
  });

  it("stops reading a stream that goes on past the limit", async () => {
    const stream = new PassThrough();
    const reading = readKeyLine({ stream, interactive: false });
    stream.write(Buffer.alloc(MAX_KEY_INPUT_BYTES + 1, 0x20));
    // Never ended: the limit alone decides.
    expect((await failure(reading)).code).toBe(ErrorCode.KEY_INVALID);
  });

  it("reports a stream that fails as INPUT_UNREADABLE", async () => {
    const stream = new PassThrough();
    const reading = readKeyLine({ stream, interactive: false });
    stream.destroy(new Error("read EIO"));
    const error = await failure(reading);
    expect(error).toBeInstanceOf(InputError);
    expect(error.code).toBe(ErrorCode.INPUT_UNREADABLE);
  });

  it("interactive: stops at the end of the first line that holds anything", async () => {
    const stream = new PassThrough();
    const reading = readKeyLine({ stream, interactive: true });
    stream.write(" \n\n");
    stream.write(`${TEXT}\nsomething typed later`);
    expect(await withTimeout(reading, WAIT_MS, "readKeyLine")).toBe(TEXT);
  });
});
