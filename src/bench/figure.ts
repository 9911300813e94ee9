/** One benchmark figure, as printed by `npm run bench -- --json`. */
export interface Figure {
  readonly name: string;
  readonly value: number;
  readonly unit: string;
  readonly better: 'higher' | 'lower';
  /** The goal, or null when the figure is informational. */
  readonly target: number | null;
}

/** Options every benchmark suite receives. */
export interface BenchOptions {
  /** Fewer iterations, for CI smoke runs (the whole bench under a minute). */
  readonly quick: boolean;
  /** `image.prepare_threads` of the e2e replay; absent: the node's default. */
  readonly prepareThreads?: number;
}

/** A named group of figures measured side by side in one run. */
export interface BenchSuite {
  readonly name: string;
  run(options: BenchOptions): Promise<Figure[]>;
}

/** Median of a non-empty list of numbers. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of an empty list');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

async function elapsed(work: () => unknown): Promise<number> {
  const start = performance.now();
  await work();
  return performance.now() - start;
}

/** Runs each task once per round, interleaved so that machine load hits all alike; each task's median ms. */
export async function interleaved(tasks: readonly (() => unknown)[], rounds: number, warmup = 2) {
  for (let i = 0; i < warmup; i++) for (const task of tasks) await task();
  const times = tasks.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    for (const [i, task] of tasks.entries()) times[i]?.push(await elapsed(task));
  }
  return times.map((t) => median(t));
}

/** Runs `fn` `warmup` times untimed, then `iterations` times; returns each run's milliseconds. */
export async function timeRuns(fn: () => unknown, iterations: number, warmup = 1): Promise<number[]> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) times.push(await elapsed(fn));
  return times;
}

/** Whether a figure meets its target (true when it has none). */
export function meetsTarget(figure: Figure): boolean {
  if (figure.target === null) return true;
  return figure.better === 'higher' ? figure.value >= figure.target : figure.value <= figure.target;
}
