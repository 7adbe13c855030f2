/** Case 6: start-up time of `gb-client --help` against `node -e 0`. */
import { runInterleaved, medianOf, type Subject } from "./interleave.js";
import { GB_CLIENT, startNode, type BenchContext } from "./programs.js";
import { newCase, ratioResult, type CaseResult } from "./results.js";

function commandSubject(context: BenchContext, name: string, args: readonly string[]): Subject {
  return {
    name,
    skip: null,
    measure: async () => {
      const child = startNode(context, name, args);
      const exit = await child.succeeded();
      return exit.at - child.startedAt;
    },
  };
}

export async function runStartupCase(
  context: BenchContext,
  repetitions: number,
): Promise<CaseResult> {
  const result = newCase(6, "start-up", "ms", false);
  result.details["repetitions"] = repetitions;
  await runInterleaved(
    context,
    result,
    [
      commandSubject(context, "gb-client --help", [GB_CLIENT, "--help"]),
      commandSubject(context, "node -e 0", ["-e", "0"]),
    ],
    repetitions,
  );
  result.ratios.push(
    ratioResult(
      "gb/node (time)",
      medianOf(result, "gb-client --help"),
      medianOf(result, "node -e 0"),
      { op: "<=", value: 1.3 },
    ),
  );
  result.notes.push("time: process spawn to exit");
  return result;
}
