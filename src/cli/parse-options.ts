import { InvalidArgumentError } from "commander";

/** Highest TCP port number. */
const MAX_PORT = 65_535;

/** Commander parser for `--port`: an integer from `min` to 65535. */
export function portParser(min: number): (value: string) => number {
  return (value) => {
    if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > MAX_PORT) {
      throw new InvalidArgumentError(`expected a port number from ${min} to ${MAX_PORT}.`);
    }
    return Number(value);
  };
}

/** Commander parser for a positive integer option. */
export function positiveInteger(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1 || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError("expected a positive whole number.");
  }
  return Number(value);
}

/** Commander parser for a whole number option that may be 0. */
export function wholeNumber(value: string): number {
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(Number(value))) {
    throw new InvalidArgumentError("expected a whole number (0 or more).");
  }
  return Number(value);
}
