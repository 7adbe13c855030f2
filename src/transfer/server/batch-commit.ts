import { toGbError } from "../../errors.js";
import { MAX_BATCH_FAILURE_BYTES } from "../../protocol/batch-messages.js";
import {
  batchReceiptText,
  cutErrorMessage,
  type FileFailure,
  type ReceiptBody,
} from "../../protocol/messages.js";
import type { InboundBatch } from "./inbound-batch.js";
import type { InboundItem } from "./inbound-item.js";
import {
  commitItem,
  type CommitContext,
  type CommittedItem,
  type NamingOrder,
} from "./item-commit.js";
import type { Peer, ReceivedItem, SessionInfo } from "./received-item.js";
import { journaled } from "./tree-journal.js";
import type { TreePlacement } from "./tree-placement.js";

/** What became of one file of a batch: stored, or failed alone. */
export type BatchFileOutcome =
  | { readonly stored: ReceivedItem; readonly receipt: ReceiptBody }
  | { readonly failed: FileFailure & { readonly name: string } };

/** A batch whose files were each stored or failed: what to answer, and what to report. */
export interface CommittedBatch {
  /** The RECEIPT frame's payload [T-BATCH-RECEIPT]. */
  readonly receiptText: string;
  /** Per file, in the batch's order. */
  readonly files: readonly BatchFileOutcome[];
}

/**
 * [T-BATCH] Commits a batch whose LAST_CHUNK arrived: each file as the file entry it
 * stands for, in the batch's order, each with its own naming turn [V-GROUP] and journal
 * line [RES-JOURNAL], so that its files are stored exactly as they would be one by one.
 * A file that fails does so alone ([T-BATCH-RECEIPT]: its failure takes its place in
 * the receipt), and `onFileFailed` frees what it holds at once.
 *
 * @throws {IntegrityError} SIZE_MISMATCH when the batch's data ended short: the batch
 *   fails as a whole, nothing of it stored.
 */
export function commitBatch(
  batch: InboundBatch,
  context: CommitContext,
  peer: Peer,
  session: SessionInfo,
  tree: TreePlacement,
  naming: NamingOrder,
  onFileFailed: (file: InboundItem) => void,
): Promise<CommittedBatch> {
  batch.checkComplete();
  const outcomes = batch.files.map(async (file): Promise<BatchFileOutcome> => {
    try {
      const turn = naming.next();
      const done: CommittedItem = await journaled(
        file,
        commitItem(file, context, peer, session, tree, turn),
      );
      return { stored: done.received, receipt: done.receipt };
    } catch (cause) {
      onFileFailed(file);
      const error = toGbError(cause, "the file failed");
      const message = cutErrorMessage(error.message, MAX_BATCH_FAILURE_BYTES);
      return { failed: { name: file.meta.name, code: error.code, message } };
    }
  });
  return Promise.all(outcomes).then((files) => {
    const answers = files.map((outcome): ReceiptBody | FileFailure => {
      if ("failed" in outcome)
        return { code: outcome.failed.code, message: outcome.failed.message };
      return outcome.receipt;
    });
    const place = batch.files[0]?.place ?? null;
    const savedAs = context.store === null || place === null ? null : place.relative;
    const meta = batch.meta;
    return {
      receiptText: batchReceiptText(batch.id, {
        kind: "files",
        name: meta.name,
        bytes: batch.bytes,
        savedAs,
        files: answers,
      }),
      files,
    };
  });
}
