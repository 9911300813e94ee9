/**
 * Seeded property runs for the fuzz suite (test/fuzz). Every run uses one fixed seed, so CI
 * replays the same cases; `ACTIAL_FUZZ_SEED` picks another seed and `ACTIAL_FUZZ_SCALE` multiplies
 * the number of cases (e.g. 10 for a longer local session). Each target prints one line:
 * `fuzz <target>: <cases> cases (seed <seed>)`.
 */
import { appendFileSync } from 'node:fs';
import fc from 'fast-check';
import type { ImageErrorCode } from '../../src/image/index.js';

/** The seed of every fuzz run (default 20260101). */
/** Every code an ImageDecodeError may carry: what a refused image is allowed to say. */
export const IMAGE_CODES: readonly ImageErrorCode[] = [
  'short_data',
  'bad_step',
  'zero_size',
  'odd_size',
  'unknown_encoding',
  'corrupt',
  'too_large',
  'depth_refused',
  'bad_aspect',
  'bad_option',
];

export const FUZZ_SEED = Number(process.env.ACTIAL_FUZZ_SEED ?? 20_260_101);
const SCALE = Number(process.env.ACTIAL_FUZZ_SCALE ?? 1);

if (!Number.isSafeInteger(FUZZ_SEED))
  throw new Error(`ACTIAL_FUZZ_SEED '${process.env.ACTIAL_FUZZ_SEED}' is not an integer`);
if (!(SCALE > 0))
  throw new Error(`ACTIAL_FUZZ_SCALE '${process.env.ACTIAL_FUZZ_SCALE}' is not a positive number`);

/** Jest time limit of a fuzz test (the default 60 s is tight on a loaded 2-core machine). */
export const FUZZ_TIMEOUT_MS = 300_000 * Math.max(1, SCALE);

/** Cases of one target, after `ACTIAL_FUZZ_SCALE`. */
export function fuzzRuns(base: number): number {
  return Math.max(1, Math.round(base * SCALE));
}

function report(target: string, cases: number): void {
  const line = `fuzz ${target}: ${cases} cases (seed ${FUZZ_SEED})\n`;
  process.stderr.write(line);
  // A file collecting the lines of a whole run (the README's figures come from one).
  const file = process.env.ACTIAL_FUZZ_REPORT;
  if (file) appendFileSync(file, line);
}

/** Options of {@link fuzz}. */
export interface FuzzOptions {
  /** Cases before `ACTIAL_FUZZ_SCALE`. */
  readonly runs: number;
  /** Shrink a failing case to a smaller one (default true; false reports the first failure as found). */
  readonly shrink?: boolean;
}

/**
 * Checks `predicate` on `options.runs` seeded values of `arbitrary`; throws fast-check's report
 * (with the counterexample and the seed/path that replays it) when a case fails. Returns the
 * number of cases run.
 */
export async function fuzz<T>(
  target: string,
  arbitrary: fc.Arbitrary<T>,
  predicate: (value: T) => void | Promise<void>,
  options: FuzzOptions,
): Promise<number> {
  const numRuns = fuzzRuns(options.runs);
  let cases = 0;
  const property = fc.asyncProperty(arbitrary, async (value) => {
    cases += 1;
    await predicate(value);
  });
  const details = await fc.check(property, {
    seed: FUZZ_SEED,
    numRuns,
    endOnFailure: options.shrink === false,
  });
  if (details.failed) {
    const cause = details.errorInstance;
    const why = cause instanceof Error ? (cause.stack ?? cause.message) : String(cause);
    throw new Error(`fuzz ${target}: ${fc.defaultReportMessage(details)}\nError: ${why}`);
  }
  if (cases !== numRuns || details.numRuns !== numRuns) {
    throw new Error(`fuzz ${target}: ${cases} cases checked, ${numRuns} asked for`);
  }
  report(target, cases);
  return cases;
}

/** `arbitrary` once in `1 + keep` cases, undefined otherwise. */
export function sometimes<T>(arbitrary: fc.Arbitrary<T>, keep = 3): fc.Arbitrary<T | undefined> {
  return fc.oneof({ weight: keep, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: arbitrary });
}

type Mutation =
  | { readonly kind: 'flip'; readonly at: number; readonly bit: number }
  | { readonly kind: 'overwrite'; readonly at: number; readonly junk: Uint8Array }
  | { readonly kind: 'truncate'; readonly at: number }
  | { readonly kind: 'insert'; readonly at: number; readonly junk: Uint8Array }
  | { readonly kind: 'duplicate'; readonly at: number; readonly length: number };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({
    kind: fc.constant('overwrite' as const),
    at: fc.nat(),
    junk: fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 8 }),
      fc.constantFrom(new Uint8Array([0xff, 0xff, 0xff, 0xff]), new Uint8Array([0, 0, 0, 0])),
    ),
  }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({
    kind: fc.constant('insert' as const),
    at: fc.nat(),
    junk: fc.uint8Array({ minLength: 1, maxLength: 32 }),
  }),
  fc.record({
    kind: fc.constant('duplicate' as const),
    at: fc.nat(),
    length: fc.integer({ min: 1, max: 64 }),
  }),
);

function apply(bytes: Uint8Array, m: Mutation): Uint8Array {
  const n = bytes.length;
  const at = n === 0 ? 0 : m.at % n;
  switch (m.kind) {
    case 'flip': {
      const out = bytes.slice();
      if (n > 0) out[at] = (out[at] as number) ^ (1 << m.bit);
      return out;
    }
    case 'overwrite': {
      const out = bytes.slice();
      out.set(m.junk.subarray(0, Math.max(0, n - at)), at);
      return out;
    }
    case 'truncate':
      return bytes.slice(0, n === 0 ? 0 : m.at % (n + 1));
    case 'insert':
    case 'duplicate': {
      const junk = m.kind === 'insert' ? m.junk : bytes.slice(at, at + m.length);
      const out = new Uint8Array(n + junk.length);
      out.set(bytes.subarray(0, at));
      out.set(junk, at);
      out.set(bytes.subarray(at), at + junk.length);
      return out;
    }
  }
}

/**
 * Mutations of a byte array: one to three of bit flips, overwrites (random bytes, all-ones,
 * zeros), truncation, insertion of junk, duplication of a slice. Returns new arrays.
 */
export function mutateBytes(original: Uint8Array, maxMutations = 3): fc.Arbitrary<Uint8Array> {
  return fc
    .array(mutation, { minLength: 1, maxLength: maxMutations })
    .map((mutations) => mutations.reduce(apply, original));
}
