import type { GbError } from "../../errors.js";
import type { ItemSlot } from "./item-slot.js";

/**
 * The items of one connection that went out (or are going out) and await their answer,
 * oldest first. Wire ids count up from 1 in the order items go out [M-ITEM-ID]; an item
 * leaves when it settles, which for an item that went out happens only on its answer or
 * when the connection fails. So the oldest one here is the item the server must answer
 * next [K-ORDER].
 */
export class ItemsInFlight {
  readonly #slots = new Map<number, ItemSlot>();
  #nextId = 1;
  /** Called when the last item settles (see {@link allSettled}). */
  #onAllSettled: (() => void) | undefined;

  /** How many items await their answer. */
  get size(): number {
    return this.#slots.size;
  }

  /** Gives `slot` the next wire id and tracks it until it settles. */
  add(slot: ItemSlot): void {
    slot.id = this.#nextId++;
    this.#slots.set(slot.id, slot);
  }

  /** Stops tracking a slot that settled: pass it to every {@link ItemSlot} as `onSettled`. */
  readonly forget = (slot: ItemSlot): void => {
    this.#slots.delete(slot.id);
    if (this.#slots.size === 0 && this.#onAllSettled !== undefined) {
      const onAllSettled = this.#onAllSettled;
      this.#onAllSettled = undefined;
      onAllSettled();
    }
  };

  /** The oldest item awaiting its answer: the one the server must answer next [K-ORDER]. */
  oldest(): ItemSlot | undefined {
    for (const slot of this.#slots.values()) return slot;
    return undefined;
  }

  /** Resolves once no item awaits its answer. */
  allSettled(): Promise<void> {
    if (this.#slots.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      this.#onAllSettled = resolve;
    });
  }

  /** Fails every item still awaiting its answer with `error`. */
  rejectAll(error: GbError): void {
    for (const slot of [...this.#slots.values()]) slot.reject(error);
  }
}
