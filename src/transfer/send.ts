import type { DictFormat } from "../codecs/dict-format.js";
import type { DictObject } from "../codecs/dict-value.js";
import type { JsonObject } from "../codecs/json-value.js";
import { GbClient, type ClientOptions, type SentItem } from "./client.js";
import type { PreparedItem } from "./client/prepared-item.js";

/** One item for {@link send}. */
export type ItemToSend =
  | {
      readonly dict: DictObject | JsonObject;
      readonly format: DictFormat;
      readonly name?: string;
      readonly encrypt?: boolean;
    }
  | { readonly file: string; readonly encrypt?: boolean }
  /** An item made by one of the `prepare*` functions, checked before connecting. */
  | { readonly prepared: PreparedItem; readonly encrypt?: boolean };

/** The outcome of one item: stored and verified, or the error that stopped it. */
export type SendOutcome =
  { readonly ok: true; readonly item: SentItem } | { readonly ok: false; readonly error: unknown };

/**
 * Connects, sends `items` over one connection in order, waits for every receipt and
 * closes. One item failing does not stop the others.
 * @throws {GbError} when the connection cannot be made (see {@link GbClient.connect}).
 */
export async function send(
  options: ClientOptions,
  items: readonly ItemToSend[],
): Promise<SendOutcome[]> {
  const client = await GbClient.connect(options);
  try {
    const results = items.map((item) => {
      const encrypt = item.encrypt ?? false;
      if ("prepared" in item) return client.send(item.prepared, { encrypt });
      if ("dict" in item) {
        return client.sendDict(item.dict, {
          format: item.format,
          ...(item.name === undefined ? {} : { name: item.name }),
          encrypt,
        });
      }
      return client.sendFile(item.file, { encrypt });
    });
    const settled = await Promise.allSettled(results);
    return settled.map((outcome) =>
      outcome.status === "fulfilled"
        ? { ok: true, item: outcome.value }
        : { ok: false, error: outcome.reason as unknown },
    );
  } finally {
    await client.close();
  }
}
