/** Which camera pairs to form from a synchronised set (`pair_mode`). */
export type PairMode = 'all' | 'ring' | 'list';

/** An ordered camera pair: the question is asked about `target` relative to `source`. */
export interface CameraPair {
  readonly source: number;
  readonly target: number;
  readonly sourceName: string;
  readonly targetName: string;
}

/**
 * Why the pair list entry `"source:target"` cannot be taken after the entries in `listed`: a camera
 * paired with itself, or a pair listed twice; undefined when it can.
 */
export function pairListProblem(
  source: string,
  target: string,
  listed: ReadonlySet<string>,
): string | undefined {
  if (source === target) return 'pairs a camera with itself';
  if (listed.has(`${source}:${target}`)) return 'is listed twice';
  return undefined;
}

/** A pair list entry or mode that cannot be resolved against the cameras. */
export class PairSpecError extends Error {
  override readonly name = 'PairSpecError';
}

/**
 * Resolves the camera pairs to ask about, in a stable order:
 * `all`: every (i, j) with i < j; `ring`: (0,1), (1,2), ..., (n-1,0) (for two cameras just (0,1));
 * `list`: the `"source:target"` entries of `pairs`, in order.
 */
export function selectCameraPairs(
  cameras: readonly string[],
  mode: PairMode,
  pairs: readonly string[] = [],
): CameraPair[] {
  const make = (source: number, target: number): CameraPair => ({
    source,
    target,
    sourceName: cameras[source]!,
    targetName: cameras[target]!,
  });
  const n = cameras.length;
  if (new Set(cameras).size !== n) throw new PairSpecError(`camera names repeat: ${cameras.join(', ')}`);
  switch (mode) {
    case 'all': {
      const result: CameraPair[] = [];
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) result.push(make(i, j));
      return result;
    }
    case 'ring':
      if (n < 2) return [];
      if (n === 2) return [make(0, 1)];
      return cameras.map((_, i) => make(i, (i + 1) % n));
    case 'list': {
      if (pairs.length === 0)
        throw new PairSpecError('pair mode list needs at least one "source:target" pair');
      const seen = new Set<string>();
      return pairs.map((entry) => {
        const parts = entry.split(':');
        if (parts.length !== 2 || !parts[0] || !parts[1]) {
          throw new PairSpecError(`pair '${entry}' is not "source:target"`);
        }
        const [source, target] = parts.map((name) => {
          const index = cameras.indexOf(name);
          if (index === -1) {
            throw new PairSpecError(
              `pair '${entry}': unknown camera '${name}' (cameras: ${cameras.join(', ')})`,
            );
          }
          return index;
        }) as [number, number];
        const problem = pairListProblem(parts[0], parts[1], seen);
        if (problem) throw new PairSpecError(`pair '${entry}' ${problem}`);
        seen.add(entry);
        return make(source, target);
      });
    }
    default:
      throw new PairSpecError(`unknown pair mode '${String(mode)}' (all, ring, list)`);
  }
}
