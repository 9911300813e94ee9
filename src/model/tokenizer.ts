import { Tokenizer } from '@huggingface/tokenizers';
import { TokenizerError } from './errors.js';

/**
 * The model's tokenizer (tokenizer.json + tokenizer_config.json through @huggingface/tokenizers,
 * HF-identical ids). Special tokens in the text (`<|im_start|>`, `<|image_pad|>`, ...) become their ids.
 */
export class TextTokenizer {
  readonly #tokenizer: Tokenizer;
  readonly #specialIds: ReadonlySet<number>;
  /** Token strings of the tokenizer_config.json special-token fields (bos_token, eos_token, ...) that are set. */
  readonly specialTokens: Readonly<Record<string, string>>;

  private constructor(tokenizer: Tokenizer, specialTokens: Record<string, string>) {
    this.#tokenizer = tokenizer;
    this.specialTokens = specialTokens;
    this.#specialIds = new Set(
      [...tokenizer.get_added_tokens_decoder()].filter(([, token]) => token.special).map(([id]) => id),
    );
  }

  /** Builds the tokenizer from the parsed tokenizer.json and tokenizer_config.json. */
  static fromJson(tokenizerJson: object, tokenizerConfig: Record<string, unknown>): TextTokenizer {
    let tokenizer: Tokenizer;
    try {
      tokenizer = new Tokenizer(tokenizerJson, tokenizerConfig);
    } catch (error) {
      throw new TokenizerError(`tokenizer.json could not be loaded: ${(error as Error).message}`, {
        cause: error,
      });
    }
    const specialTokens: Record<string, string> = {};
    for (const key of ['bos_token', 'eos_token', 'pad_token', 'unk_token']) {
      const value = tokenizerConfig[key];
      const content =
        typeof value === 'string'
          ? value
          : value && typeof value === 'object' && typeof (value as { content?: unknown }).content === 'string'
            ? (value as { content: string }).content
            : undefined;
      if (content !== undefined) specialTokens[key] = content;
    }
    return new TextTokenizer(tokenizer, specialTokens);
  }

  /** Token ids of `text` (no BOS/EOS added; Qwen adds none). */
  encode(text: string): number[] {
    return this.#tokenizer.encode(text, { add_special_tokens: false }).ids;
  }

  /** Text of `ids`; special tokens are dropped unless `keepSpecialTokens`. */
  decode(ids: readonly number[], keepSpecialTokens = false): string {
    return this.#tokenizer.decode(ids as number[], { skip_special_tokens: !keepSpecialTokens });
  }

  /** Id of a single token string (e.g. `<|image_pad|>`), or undefined when the vocabulary lacks it. */
  tokenId(token: string): number | undefined {
    return this.#tokenizer.token_to_id(token);
  }

  /** Id of `token`; throws {@link TokenizerError} naming it when the vocabulary lacks it or gives it another id than `expectedId`. */
  requireTokenId(token: string, expectedId?: number): number {
    const id = this.tokenId(token);
    if (id === undefined) throw new TokenizerError(`tokenizer has no token '${token}'`);
    if (expectedId !== undefined && id !== expectedId) {
      throw new TokenizerError(`tokenizer maps '${token}' to id ${id}, but config.json says ${expectedId}`);
    }
    return id;
  }

  /** Whether `id` is a special added token (dropped from decoded text). */
  isSpecial(id: number): boolean {
    return this.#specialIds.has(id);
  }

  /** A decoder that turns a stream of generated ids into text pieces as soon as they are complete characters. */
  streamDecoder(): TokenTextStream {
    return new TokenTextStream(this);
  }
}

/**
 * Incremental detokenizer: byte-level BPE tokens may end inside a UTF-8 character, and a character
 * may span any number of tokens, so ids are held until they decode without a trailing replacement
 * character, then given out and forgotten; the pieces concatenate to the decoded whole.
 */
export class TokenTextStream {
  readonly #tokenizer: TextTokenizer;
  #pending: number[] = [];

  constructor(tokenizer: TextTokenizer) {
    this.#tokenizer = tokenizer;
  }

  /** Adds one id; returns the text it completes ('' while a character is still incomplete). */
  push(id: number): string {
    this.#pending.push(id);
    const text = this.#tokenizer.decode(this.#pending);
    if (text.endsWith('\uFFFD')) return '';
    this.#pending = [];
    return text;
  }

  /** Text of ids still held back (an incomplete character at the end of the stream). */
  flush(): string {
    const text = this.#pending.length > 0 ? this.#tokenizer.decode(this.#pending) : '';
    this.#pending = [];
    return text;
  }
}
