import { restated, toGbError, type GbError } from "../errors.js";
import { reportFailed } from "./item-report.js";
import type { PlanInput } from "./send-plan.js";
import type { Terminal } from "./terminal.js";
import type { TreeReport } from "./tree-report.js";

/**
 * [T-WALK] A plan cut short while trees were still being walked: a tree's walk stopped
 * at a limit, or the connection failed. The walks still going stop, each tree cut says
 * so in its summary once what went has its answers, and the inputs the plan had not
 * reached are each reported failed, after the items planned (so that ids stay in order).
 */
export class PlanCut {
  #cause: GbError | undefined;
  #unreached: readonly PlanInput[] = [];

  /** True once the plan was cut. */
  get happened(): boolean {
    return this.#cause !== undefined;
  }

  /**
   * Cuts the plan (once): `cause` is why, `unreached` the inputs it had not reached,
   * `trees` every tree of the run (those still being walked are cut).
   */
  cut(
    cause: unknown,
    unreached: readonly PlanInput[],
    trees: readonly TreeReport[],
    output: { readonly terminal: Terminal; readonly json: boolean },
  ): void {
    if (this.#cause !== undefined) return;
    this.#cause = toGbError(cause, "the run was cut short");
    this.#unreached = unreached;
    for (const report of trees) {
      if (report.tree.done) continue;
      report.tree.stop();
      if (report.cutShort()) report.summarize(output.terminal, output.json);
    }
  }

  /**
   * Reports each input the plan had not reached as failed (nothing of it was sent), with
   * the ids after `lastId`.
   */
  reportUnreached(
    lastId: number,
    output: { readonly terminal: Terminal; readonly json: boolean },
  ): void {
    const cause = this.#cause;
    if (cause === undefined) return;
    let id = lastId;
    for (const input of this.#unreached) {
      const label = "planned" in input ? input.planned.label : input.report.label;
      const name = "planned" in input ? input.planned.item.meta.name : input.report.tree.name;
      const error = restated(
        cause,
        `${label} was not sent: the run stopped before it (${cause.message})`,
      );
      reportFailed(output.terminal, { id: ++id, path: label, name }, error, output.json);
    }
  }
}
