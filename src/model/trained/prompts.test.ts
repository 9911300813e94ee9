/**
 * @jest-environment ./test/helpers/ort-jest-environment.mjs
 */
import { OPTION_LETTERS, VIEWPOINT_QUESTION_KINDS, viewpointQuestion } from '../../spatial/prompts.js';
import { Engine, type EngineImage } from '../engine.js';
import { expandImagePlaceholders, mropePositions } from '../image-tokens.js';
import { QWEN_TOKEN_IDS } from '../tiny/config.js';
import { tinyModelDir } from '../../../test/helpers/tiny-model.js';
import { buildPromptSet, TRAINED_ANSWER_PREFIXES, TRAINED_GRID, TRAINED_SYSTEM_PROMPTS } from './prompts.js';

const set = buildPromptSet();
/** renderPrompt only counts the images. */
const TWO_IMAGES = [{}, {}] as unknown as EngineImage[];
let engine: Engine;

beforeAll(async () => {
  // Any folder with the real tokenizer and chat template: the engine renders and tokenizes.
  engine = await Engine.create({ modelDir: await tinyModelDir() });
});

afterAll(async () => {
  await engine?.dispose();
});

describe('buildPromptSet', () => {
  it('has every question in every option order with every answer prefix, and both system prompts', () => {
    expect(set.systems).toHaveLength(TRAINED_SYSTEM_PROMPTS.length);
    expect(set.questions).toHaveLength(VIEWPOINT_QUESTION_KINDS.length * 6 * TRAINED_ANSWER_PREFIXES.length);
    expect(set.imageTokens).toBe(64);
    for (const system of set.systems) {
      expect(system.prefix.at(-1)).toBe(QWEN_TOKEN_IDS.visionStart);
      expect(system.between).toEqual([QWEN_TOKEN_IDS.visionEnd, QWEN_TOKEN_IDS.visionStart]);
    }
  });

  it('holds the ids the engine builds for each prompt, and the tokens it scores for A, B and C', () => {
    const layout = { imageTokenId: QWEN_TOKEN_IDS.imagePad, spatialMergeSize: 2 };
    set.systems.forEach((system, s) => {
      for (const q of set.questions) {
        const prompt = engine.renderPrompt({
          images: TWO_IMAGES,
          system: TRAINED_SYSTEM_PROMPTS[s],
          question: viewpointQuestion(q.kind, q.order),
        });
        const ids = expandImagePlaceholders(
          engine.tokenizer.encode(prompt + q.answerPrefix),
          [TRAINED_GRID, TRAINED_GRID],
          layout,
        );
        const pads = Array<number>(64).fill(QWEN_TOKEN_IDS.imagePad);
        const shared = [...system.prefix, ...pads, ...system.between, ...pads, ...q.block];
        // The prompt (+ prefix) is the shared part, up to the token the choices complete.
        expect(ids.slice(0, shared.length)).toEqual(shared);
        OPTION_LETTERS.forEach((letter, i) => {
          const choice = expandImagePlaceholders(
            engine.tokenizer.encode(prompt + q.answerPrefix + letter),
            [TRAINED_GRID, TRAINED_GRID],
            layout,
          );
          expect(choice).toEqual([...shared, q.choiceTokens[i]]);
        });
      }
    });
    expect(new Set(set.questions.map((q) => q.choiceTokens.join())).size).toBe(2);
  });

  it('checks its position ids with the engine and keeps every id it uses in the vocabulary', () => {
    for (const check of set.positionChecks) {
      const grids = [TRAINED_GRID, TRAINED_GRID];
      const { positionIds } = mropePositions(check.ids, grids, {
        imageTokenId: QWEN_TOKEN_IDS.imagePad,
        spatialMergeSize: 2,
      });
      expect(check.positionIds.flat()).toEqual(Array.from(positionIds, Number));
    }
    const vocabulary = new Set(set.vocabulary);
    for (const s of set.systems)
      for (const id of [...s.prefix, ...s.between]) expect(vocabulary.has(id)).toBe(true);
    for (const q of set.questions)
      for (const id of [...q.block, ...q.choiceTokens]) expect(vocabulary.has(id)).toBe(true);
    expect(vocabulary.has(set.stopToken)).toBe(true);
    expect(set.vocabulary).toEqual([...set.vocabulary].sort((a, b) => a - b));
  });
});
