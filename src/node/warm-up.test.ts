import { tinyModelDir } from '../../test/helpers/tiny-model.js';
import { modelSchema, promptSchema } from '../config/schema.js';
import { Engine, type PromptRequest, type QuestionSetRequest } from '../model/engine.js';
import { ACTIAL_SYSTEM_PROMPT } from '../spatial/prompts.js';
import { warmUpBackend } from './warm-up.js';

let engine: Engine;

beforeAll(async () => {
  engine = await Engine.create({ modelDir: await tinyModelDir(), log: () => {} });
});

afterAll(async () => {
  await engine.dispose();
});

/** The engine, recording the requests it is given. */
function recorded() {
  const scored: QuestionSetRequest[] = [];
  const generated: PromptRequest[] = [];
  return {
    scored,
    generated,
    backend: {
      scoreQuestions: (request: QuestionSetRequest) => (scored.push(request), engine.scoreQuestions(request)),
      generate: (request: Parameters<Engine['generate']>[0]) => (
        generated.push(request),
        engine.generate(request)
      ),
    },
  };
}

describe('warmUpBackend', () => {
  it.each([
    [
      'actial, the default system prompt, 448x448',
      {},
      448 * 448,
      ACTIAL_SYSTEM_PROMPT,
      '<answer>',
      [1, 32, 32],
    ],
    [
      'plain without a system prompt, 224x224',
      { answer_format: 'plain' },
      224 * 224,
      undefined,
      '',
      [1, 16, 16],
    ],
    ['a system prompt of its own', { system: 'Be brief.' }, 448 * 448, 'Be brief.', '<answer>', [1, 32, 32]],
  ] as const)(
    '%s: one question scored and two tokens generated over two frames of the largest input',
    async (_name, prompt, maxPixels, system, answerPrefix, grid) => {
      const { backend, scored, generated } = recorded();
      const timings = await warmUpBackend(backend, {
        model: modelSchema.parse({ max_pixels: maxPixels }),
        prompt: promptSchema.parse(prompt),
      });
      expect(timings.scoringMs).toBeGreaterThan(0);
      expect(timings.generationMs).toBeGreaterThan(0);
      expect(scored).toHaveLength(1);
      expect(generated).toHaveLength(1);
      const [set] = scored;
      expect(set?.system).toBe(system);
      expect(set?.images.map((i) => i.image.gridThw)).toEqual([grid, grid]);
      expect(set?.questions).toHaveLength(1);
      expect(set?.questions[0]).toMatchObject({ choices: ['A', 'B', 'C'], answerPrefix });
      expect(generated[0]).toMatchObject({ system, maxNewTokens: 2 });
    },
  );

  it("leaves the system prompt's KV cache in the engine's prefix cache", async () => {
    const fresh = await Engine.create({ modelDir: await tinyModelDir(), log: () => {} });
    try {
      expect(fresh.prefixCacheStats.entries).toBe(0);
      await warmUpBackend(fresh, { model: modelSchema.parse({}), prompt: promptSchema.parse({}) });
      expect(fresh.prefixCacheStats.entries).toBe(1);
    } finally {
      await fresh.dispose();
    }
  });

  it('fails with the error of the request that failed', async () => {
    const failing = {
      scoreQuestions: () => Promise.reject(new Error('CUDA out of memory')),
      generate: (request: Parameters<Engine['generate']>[0]) => engine.generate(request),
    };
    await expect(
      warmUpBackend(failing, { model: modelSchema.parse({}), prompt: promptSchema.parse({}) }),
    ).rejects.toThrow('CUDA out of memory');
  });
});
