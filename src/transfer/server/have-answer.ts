import type { FrameWriter } from "../../framing/frame-writer.js";
import { FrameType } from "../../protocol/constants.js";
import { decodeHave, encodeHeld } from "../../protocol/tree-messages.js";
import type { TreeJournals } from "./tree-journal.js";
import type { TreePlacement } from "./tree-placement.js";

/**
 * [RES-HAVE] Answers a HAVE at once with a HELD: per entry key asked, the receipt the
 * tree's journal holds for it, or null (every answer null when the tree is unknown or
 * the server keeps no state: [RES-HELD-EXPOSE] it tells nothing; null too for an entry no
 * longer on disk as stored). Like an OFFER, a HELD is not an item's answer [K-ORDER]:
 * it goes out ahead of the receipts of items still being committed.
 * @throws {ProtocolError} MALFORMED_MESSAGE when the HAVE is malformed [M-HAVE].
 */
export function answerHave(
  payload: Buffer,
  journals: TreeJournals,
  tree: TreePlacement,
  writer: () => FrameWriter,
): Promise<void> {
  const have = decodeHave(payload);
  return journals.journal(have.tree).then(async (journal) => {
    // Held only where the tree will go on: a top folder gone or replaced starts it over.
    // A journal that holds no entry holds none of these: nothing to check (a client that
    // walks its tree as it sends asks between the tree's entries [RES-HAVE]).
    // The tree being received has decided already (went on, or started over): asked again
    // between its entries, its journal is read as it is, never started over under it.
    const reopens =
      journal.holdsEntries && (tree.journal === journal || (await tree.reopens(journal)));
    // Held only while still on disk as stored (not removed, replaced or moved since).
    const realDirectories = new Map<string, Promise<string>>();
    const held = await Promise.all(
      have.keys.map(async (key) => {
        const receipt = reopens ? journal.held(key) : null;
        if (receipt === null) return null;
        return (await tree.stillStored(receipt, realDirectories)) ? receipt : null;
      }),
    );
    const out = writer();
    if (out.closed) return;
    // [M-HELD] Nothing of the tree is held: the client may stop asking about it.
    const nothing = reopens ? {} : { nothing: true as const };
    out.writeFrame(FrameType.HELD, encodeHeld({ tree: have.tree, held, ...nothing }));
    // Now, not with what the rest of this turn writes: the client sends the entries of a
    // HAVE as soon as its answer comes, while the server reads the next HAVEs.
    out.flush();
  });
}
