import { ropeInverseFrequencies, TINY_MODEL_DIMENSIONS as D } from './config.js';
import { mropeFrequencyTable } from './graphs.js';

describe('rotary frequencies', () => {
  it('default to 1 / theta^(2f / head_dim)', () => {
    const frequencies = ropeInverseFrequencies(D);
    expect(frequencies).toHaveLength(D.headDim / 2);
    frequencies.forEach((value, f) =>
      expect(value).toBeCloseTo(1 / D.ropeTheta ** ((2 * f) / D.headDim), 12),
    );
  });

  it('take explicit values, 0 leaving a pair unrotated on every row', () => {
    const explicit = [0, 0, 3, 2.5, 2, 1.5, 1, 0.5];
    const dims = { ...D, headDim: 16, mropeSection: [4, 2, 2] as const, ropeFrequencies: explicit };
    expect(ropeInverseFrequencies(dims)).toEqual(explicit);
    const table = mropeFrequencyTable(dims);
    for (const j of [0, 1, 8, 9]) expect([0, 1, 2].map((row) => table[row * 16 + j])).toEqual([0, 0, 0]);
    expect(table[2]).toBeCloseTo(3, 6); // pair 2 belongs to the temporal row
    expect(table[1 * 16 + 12]).toBeCloseTo(2, 6); // pair 4 (its second half at 12) to the height row
  });

  it('refuse a list of the wrong length, naming both lengths', () => {
    expect(() => ropeInverseFrequencies({ ...D, ropeFrequencies: [1, 2, 3] })).toThrow(
      `ropeFrequencies has 3 entries, expected headDim / 2 = ${D.headDim / 2}`,
    );
  });
});
