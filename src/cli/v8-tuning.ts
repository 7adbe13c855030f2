import { PerformanceObserver } from "node:perf_hooks";
import { getHeapSpaceStatistics, setFlagsFromString } from "node:v8";

/**
 * V8's budget before a function is optimized, for a run of many small items: about 60
 * times its default (67,584 on Node 20, in bytecode run). Sending a tree of small files runs
 * hundreds of functions briefly, thousands of times each, and then stops: optimizing
 * them on the way (TurboFan, on V8's own threads) cost gb-client about a seventh of its
 * CPU time, more than it saved before the run ended. With this budget only the hottest
 * code is optimized. Measured with the benchmark's tree of 10,000 files of 4 KiB (cold
 * clients against one warm server, interleaved, medians of 14): gb-client's CPU time
 * 1.06 → 0.92 s, the tree's time 1.27 → 1.18 s. A dictionary's encoder is the other way
 * round (a few very hot functions, best optimized early: with this budget a 5 MiB
 * MessagePack dictionary took about a fifth more CPU), so the budget is raised only for a
 * run that sends a tree.
 */
const MANY_ITEMS_INTERRUPT_BUDGET = 4_000_000;

/**
 * V8 flags for a run of many small items besides the budget. `--no-parallel-scavenge`:
 * the young generation is collected by the main thread alone, rather than with helper
 * threads it then waits for. A tree's run collects it dozens of times, while the server
 * on the same machine (two cores in the benchmark) keeps the other cores busy: the
 * helpers waited for a core, and the main thread for them. Measured as above (medians
 * of 16, interleaved): the tree's time 1.040 → 0.990 s, gb-client's CPU 0.885 → 0.865 s.
 * The flag is read at each collection, so it may change while the process runs.
 */
const MANY_ITEMS_FLAGS = [
  `--interrupt-budget=${MANY_ITEMS_INTERRUPT_BUDGET}`,
  "--no-parallel-scavenge",
];

/**
 * The young generation's size (both semi-spaces) past which it stops growing in a run of
 * many small items: 8 MiB, where V8 grows it to 32 MiB. Sending a tree keeps a little of
 * everything alive for a while (each file until its receipt), so V8 keeps growing it;
 * a larger one touches more fresh memory (each page a fault, costly on a virtual
 * machine) and, measured, costs more than it saves. Measured as above (medians of 16, interleaved): the
 * tree's time 0.995 → 0.950 s, gb-client's CPU 0.860 → 0.780 s; 4,500 page faults (of
 * 16,000) and 18 MB of resident memory fewer. The size limit itself cannot change once
 * the process runs (`--max-semi-space-size=4` at start does the same), but the growth
 * factor, read at each growth, can: it becomes 1 once the size is reached, and growing
 * then leaves the size as it is. (V8 raises a factor below 2 given at start; given while
 * it runs, Node 20's V8 takes it as it is.)
 */
const MANY_ITEMS_NEW_SPACE_BYTES = 8 * 1024 * 1024;

let tuned = false;

/**
 * Raises V8's optimization budget, has the young generation collected without helper
 * threads, and stops it growing past {@link MANY_ITEMS_NEW_SPACE_BYTES}, for the rest of
 * the process (see {@link MANY_ITEMS_INTERRUPT_BUDGET} and {@link MANY_ITEMS_FLAGS}); once.
 * For a program's entry point only: the settings are the whole process's.
 */
export function tuneForManyItems(): void {
  if (tuned) return;
  tuned = true;
  for (const flag of MANY_ITEMS_FLAGS) setFlagsFromString(flag);
  capYoungGeneration(MANY_ITEMS_NEW_SPACE_BYTES);
}

/** The young generation's size now (both semi-spaces), in bytes. */
export function youngGenerationBytes(): number {
  return (
    getHeapSpaceStatistics().find((space) => space.space_name === "new_space")?.space_size ?? 0
  );
}

/**
 * Stops the young generation growing once it is `bytes` large: at once when it is, or
 * a turn of the event loop after the collection that grows it there (V8 grows it in
 * collections, by doubling; the observer hears of a collection in the next turn). A turn
 * that keeps much of what it allocates may grow it further first: it then stays at that
 * size, never above V8's own maximum.
 */
export function capYoungGeneration(bytes: number): void {
  const stopGrowing = (): void => {
    setFlagsFromString("--semi-space-growth-factor=1");
  };
  if (youngGenerationBytes() >= bytes) {
    stopGrowing();
    return;
  }
  const collections = new PerformanceObserver(() => {
    if (youngGenerationBytes() < bytes) return;
    stopGrowing();
    collections.disconnect();
  });
  collections.observe({ entryTypes: ["gc"] });
}
