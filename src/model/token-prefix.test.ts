import { commonPrefixLength, scoredPrefixLength } from './token-prefix.js';

describe('commonPrefixLength', () => {
  it.each<[string, number[][], number]>([
    ['no sequences', [], 0],
    ['one sequence', [[1, 2, 3]], 3],
    [
      'equal sequences',
      [
        [1, 2, 3],
        [1, 2, 3],
      ],
      3,
    ],
    [
      'diverging in the middle',
      [
        [1, 2, 3, 4],
        [1, 2, 9, 4],
      ],
      2,
    ],
    [
      'a prefix of another',
      [
        [1, 2],
        [1, 2, 3],
      ],
      2,
    ],
    ['the shortest decides', [[1, 2, 3], [1, 2, 3, 4], [1]], 1],
    [
      'a later sequence diverges earlier',
      [
        [1, 2, 3],
        [1, 2, 3],
        [1, 5, 3],
      ],
      1,
    ],
    [
      'nothing shared',
      [
        [7, 2],
        [1, 2],
      ],
      0,
    ],
  ])('%s', (_name, sequences, expected) => {
    expect(commonPrefixLength(sequences)).toBe(expected);
  });
});

describe('scoredPrefixLength', () => {
  it.each<[string, number[][], number]>([
    [
      'choices differing in their last token',
      [
        [1, 2, 3, 10],
        [1, 2, 3, 11],
      ],
      3,
    ],
    [
      'a choice that is a prefix of another leaves it one token',
      [
        [1, 2, 3],
        [1, 2, 3, 4],
      ],
      2,
    ],
    [
      'equal sequences leave one token each',
      [
        [1, 2],
        [1, 2],
      ],
      1,
    ],
    [
      'choices differing earlier',
      [
        [1, 5, 6],
        [1, 7, 6],
      ],
      1,
    ],
  ])('%s', (_name, sequences, expected) => {
    expect(scoredPrefixLength(sequences)).toBe(expected);
  });
});
