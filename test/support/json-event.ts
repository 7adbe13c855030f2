/**
 * Reading the programs' --json lines in tests. [CLI-JSON-TIME] every event carries a
 * `time` (ISO 8601, UTC, milliseconds) right after its `event`: {@link parseEventLine}
 * checks it and takes it off, so that a test compares what the event says.
 */

const ISO_UTC_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/** One --json line, its `time` checked and removed. */
export function parseEventLine(line: string): Record<string, unknown> {
  const event = JSON.parse(line) as Record<string, unknown>;
  if (!("event" in event)) return event;
  const keys = Object.keys(event);
  if (keys[1] !== "time" || typeof event["time"] !== "string" || !ISO_UTC_MS.test(event["time"])) {
    throw new Error(`[CLI-JSON-TIME] an event without a valid time after its name: ${line}`);
  }
  delete event["time"];
  return event;
}

/**
 * [CLI-JSON-PROGRESS] gb-client's `progress` events come as often as bytes go out (at
 * most a few a second): tests of what was stored or failed leave them out.
 */
export function isProgressEvent(event: Record<string, unknown>): boolean {
  return event["event"] === "progress";
}
