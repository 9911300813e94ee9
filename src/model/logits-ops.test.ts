import { LogitsOps } from './logits-ops.js';
import { argmax, logSumExp } from './sampling.js';

function pseudoRandomLogits(length: number, seed: number): Float32Array {
  const logits = new Float32Array(length);
  let state = seed;
  for (let i = 0; i < length; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    logits[i] = (state / 2 ** 32) * 40 - 20;
  }
  return logits;
}

describe('LogitsOps', () => {
  const vocab = 151936;
  let ops: LogitsOps;
  beforeAll(async () => {
    ops = await LogitsOps.create();
  });
  afterAll(async () => {
    await ops.dispose();
  });

  it('gives each row the log-sum-exp the double-precision JavaScript reduction gives', async () => {
    const rows = 3;
    const logits = pseudoRandomLogits(rows * vocab, 7);
    logits[vocab + 5] = 60;
    const result = await ops.logSumExp(logits, rows);
    expect(result).toHaveLength(rows);
    for (let r = 0; r < rows; r++) {
      const expected = logSumExp(logits.subarray(r * vocab, (r + 1) * vocab));
      expect(Math.abs((result[r] as number) - expected)).toBeLessThan(1e-9);
    }
  });

  it('sums rows where few logits matter as the whole double-precision reduction does', async () => {
    const rows = 3;
    // A compact-vocabulary model gives every other id the same very low logit.
    const logits = new Float32Array(rows * vocab).fill(-1e4);
    for (let i = 0; i < 300; i++) logits[i * 7] = Math.sin(i) * 10;
    logits.set(pseudoRandomLogits(vocab, 5), vocab);
    logits[2 * vocab + 3] = 5;
    const result = await ops.logSumExp(logits, rows);
    for (let r = 0; r < rows; r++) {
      const expected = logSumExp(logits.subarray(r * vocab, (r + 1) * vocab));
      expect(Math.abs((result[r] as number) - expected)).toBeLessThan(1e-9);
    }
  });

  it('gives NaN for a row holding NaN and -Infinity for a row of -Infinity', async () => {
    const logits = new Float32Array(2 * vocab).fill(-1e4);
    logits[17] = Number.NaN;
    logits.fill(-Infinity, vocab);
    const [withNaN, empty] = await ops.logSumExp(logits, 2);
    expect(withNaN).toBeNaN();
    expect(empty).toBe(-Infinity);
  });

  it('finds the largest logit, the first one on ties', async () => {
    const logits = pseudoRandomLogits(vocab, 3);
    expect(await ops.argmax(logits)).toBe(argmax(logits));
    logits[100] = 99;
    logits[90_000] = 99;
    expect(await ops.argmax(logits)).toBe(100);
  });

  it('refuses logits that do not split into the rows', async () => {
    await expect(ops.logSumExp(new Float32Array(5), 2)).rejects.toThrow(/5 logits do not split into 2 rows/);
  });
});
