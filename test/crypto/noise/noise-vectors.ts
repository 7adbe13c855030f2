/** Loads the published Noise test vectors in test/vectors/noise/. */
import { readFileSync } from "node:fs";

/** One vector, in the format cacophony and snow share; byte strings are hex. */
export interface NoiseVector {
  protocol_name: string;
  init_prologue: string;
  init_psks?: string[];
  init_static?: string;
  init_ephemeral?: string;
  init_remote_static?: string;
  resp_prologue: string;
  resp_psks?: string[];
  resp_static?: string;
  resp_ephemeral?: string;
  resp_remote_static?: string;
  handshake_hash?: string;
  messages: { payload: string; ciphertext: string }[];
}

export interface NoiseVectorFile {
  description: string;
  source: string;
  licence: string;
  count: number;
  vectors: NoiseVector[];
}

function load(name: string): NoiseVectorFile {
  // The files are ours and checked in; the tests fail loudly on a wrong shape.
  return JSON.parse(readFileSync(new URL(`../../vectors/noise/${name}`, import.meta.url), "utf8"));
}

export const cacophony = load("cacophony-25519-aesgcm-sha256.json");
export const snow = load("snow-25519-aesgcm-sha256.json");

export const hex = (text: string): Buffer => Buffer.from(text, "hex");
