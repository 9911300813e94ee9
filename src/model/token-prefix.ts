/** The number of leading token ids that all the sequences share (0 when none are given). */
export function commonPrefixLength(sequences: readonly (readonly number[])[]): number {
  const [first, ...rest] = sequences;
  if (!first) return 0;
  let n = first.length;
  for (const s of rest) {
    n = Math.min(n, s.length);
    for (let i = 0; i < n; i++) {
      if (s[i] !== first[i]) {
        n = i;
        break;
      }
    }
  }
  return n;
}

/**
 * The longest prefix that all the sequences share and that still leaves each of them at least one
 * token after it: the pass that scores a sequence's last token needs an input to run.
 */
export function scoredPrefixLength(sequences: readonly (readonly number[])[]): number {
  return Math.min(commonPrefixLength(sequences), ...sequences.map((s) => s.length - 1));
}
