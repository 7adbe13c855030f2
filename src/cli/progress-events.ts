import type { Terminal } from "./terminal.js";

/** At most this many `progress` events a second, all items together (finals aside). */
export const PROGRESS_EVENTS_PER_SECOND = 4;
const MS_PER_SECOND = 1000;
const MIN_EVENT_INTERVAL_MS = MS_PER_SECOND / PROGRESS_EVENTS_PER_SECOND;

/** What a `progress` event says of one item. */
export interface ItemProgress {
  /** The item's position in the order given (1-based), as in its `stored` / `failed` event. */
  readonly id: number;
  readonly name: string;
  /** What the user gave: a path, or `-` for standard input. */
  readonly path: string;
  /** Bytes of the item sent so far. */
  readonly bytes: number;
  /** The item's size in bytes; null when unknown until its end (standard input). */
  readonly total: number | null;
}

/**
 * [CLI-JSON-PROGRESS] gb-client's `progress` events with --json: at most
 * {@link PROGRESS_EVENTS_PER_SECOND} a second, so that a script or a GUI can show how far
 * along a transfer is without being flooded, and one final event per item when it is over.
 */
export class ProgressEvents {
  readonly #terminal: Terminal;
  readonly #now: () => number;
  #lastEventAt = Number.NEGATIVE_INFINITY;

  constructor(terminal: Terminal, now: () => number = Date.now) {
    this.#terminal = terminal;
    this.#now = now;
  }

  /** Bytes went out: an event, unless one was written less than 1/4 s ago. */
  update(progress: ItemProgress): void {
    const now = this.#now();
    if (now - this.#lastEventAt < MIN_EVENT_INTERVAL_MS) return;
    this.#lastEventAt = now;
    this.#write(progress, false);
  }

  /** The item is over (stored or failed): its last event, always written. */
  final(progress: ItemProgress): void {
    this.#write(progress, true);
  }

  #write(progress: ItemProgress, final: boolean): void {
    this.#terminal.json({ event: "progress", ...progress, final });
  }
}
