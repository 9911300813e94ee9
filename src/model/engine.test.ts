import { tinyModelDir } from '../../test/helpers/tiny-model.js';
import { preprocess } from '../image/preprocess.js';
import { syntheticImage } from '../image/reference.js';
import type { ModelImage, RgbImage } from '../image/types.js';
import { modelSchema } from '../config/schema.js';
import { engineOptionsFromConfig } from './engine-options.js';
import { Engine, type EngineImage } from './engine.js';
import { ChoiceError, ContextLengthError, RequestError, TokenizerError } from './errors.js';
import { expandImagePlaceholders, mropePositions } from './image-tokens.js';
import { logSumExp, softmax } from './sampling.js';
import { readFolderJson, variantFolder } from './test-folders.js';
import { loadTransformersReference, type TransformersReference } from './transformers-reference.js';

const limits = { maxPixels: 448 * 448, minPixels: 3136 };
const layout = { imageTokenId: 151655, spatialMergeSize: 2 };
const viewpointQuestion =
  "The object captured in these two photos did not move. From the camera's perspective, did the position of the camera that captured the second photo move relative to the first photo's camera position? A: Move to the left B: Move to the right C: No movement Select the correct option, please output only the option letter!";

let dir: string;
let engine: Engine;
let rgb: RgbImage[];
let modelImages: ModelImage[];
let images: EngineImage[];

beforeAll(async () => {
  dir = await tinyModelDir();
  engine = await Engine.create({ modelDir: dir, log: () => {} });
  rgb = [syntheticImage(448, 448, 1), syntheticImage(640, 480, 2)];
  // transformers.js's resampling, so the reference below sees the same pixels.
  modelImages = await Promise.all(rgb.map((im) => preprocess(im, { ...limits, resize: 'transformersjs' })));
  images = modelImages.map((image) => ({ image }));
});

afterAll(async () => {
  await engine.dispose();
});

/** max |a - b| / max |b| (plain comparisons: Math calls are slow in jest's sandbox). */
function relativeError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] as number;
    const y = b[i] as number;
    const d = x > y ? x - y : y - x;
    const s = y < 0 ? -y : y;
    if (d > diff || d !== d) diff = d;
    if (s > scale) scale = s;
  }
  return diff / (scale > 0 ? scale : 1e-30);
}

function concat(parts: readonly Float32Array[]): Float32Array {
  const out = new Float32Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

describe('Engine against @huggingface/transformers (same tiny model, images and prompt)', () => {
  let reference: TransformersReference;
  beforeAll(async () => {
    reference = await loadTransformersReference(dir, limits);
  });
  afterAll(async () => {
    await reference.dispose();
  });

  it('prepares the same ids and pixels, computes the same prefill logits and greedy tokens', async () => {
    const prompt = engine.renderPrompt({ images, question: 'Where is the cup?' });
    const inputs = await reference.prepare(prompt, rgb);
    const grids = modelImages.map((m) => m.gridThw);
    expect(inputs.grids).toEqual(grids);
    expect(relativeError(inputs.pixelValues, concat(modelImages.map((m) => m.pixelValues)))).toBe(0);
    const ids = expandImagePlaceholders(engine.tokenizer.encode(prompt), grids, layout);
    expect(ids).toEqual(inputs.inputIds);

    const features = await Promise.all(modelImages.map((m) => engine.runner.encodeImage(m)));
    const ours = await engine.runner.forward({
      ids,
      positionIds: mropePositions(ids, grids, layout).positionIds,
      images: features,
      start: 0,
      end: ids.length,
      cache: engine.runner.emptyCache(),
      logitsToKeep: 0,
    });
    expect(relativeError(ours.logits, await reference.prefillLogits(inputs))).toBeLessThan(1e-4);

    const theirs = await reference.generate(inputs, 8);
    const generated = await engine.generate({ images, prompt, maxNewTokens: 8, outputLogits: true });
    expect(generated.tokenIds).toEqual(theirs.tokenIds);
    expect(generated.logits).toHaveLength(theirs.logits.length);
    theirs.logits.forEach((row, step) => {
      expect(relativeError(generated.logits?.[step] as Float32Array, row)).toBeLessThan(1e-4);
    });
  });
});

describe('Engine.generate', () => {
  it('gives each decode step the logits a fresh prefill of the whole sequence gives', async () => {
    const result = await engine.generate({
      images,
      question: 'Describe.',
      maxNewTokens: 8,
      outputLogits: true,
    });
    expect(result.tokenIds).toHaveLength(8);
    const grids = modelImages.map((m) => m.gridThw);
    const prompt = expandImagePlaceholders(engine.tokenizer.encode(result.prompt), grids, layout);
    const ids = [...prompt, ...result.tokenIds.slice(0, 7)];
    const features = await Promise.all(modelImages.map((m) => engine.runner.encodeImage(m)));
    const full = await engine.runner.forward({
      ids,
      positionIds: mropePositions(ids, grids, layout).positionIds,
      images: features,
      start: 0,
      end: ids.length,
      cache: engine.runner.emptyCache(),
      logitsToKeep: 8,
    });
    const vocab = engine.runner.vocabSize;
    for (let k = 0; k < 8; k++) {
      const fresh = full.logits.subarray(k * vocab, (k + 1) * vocab);
      expect(relativeError(result.logits?.[k] as Float32Array, fresh)).toBeLessThan(1e-4);
    }
    expect(result.timings).toMatchObject({ promptTokens: prompt.length, newTokens: 8 });
    expect(result.finishReason).toBe('length');
  });

  it('streams every token as it is sampled', async () => {
    const pieces: string[] = [];
    const ids: number[] = [];
    const result = await engine.generate({
      images,
      question: 'Stream.',
      maxNewTokens: 6,
      onToken: ({ tokenId, text }) => {
        ids.push(tokenId);
        pieces.push(text);
      },
    });
    expect(ids).toEqual(result.tokenIds);
    expect(pieces.join('')).toBe(result.text);
  });

  it('streams pieces that join to the text when the limit cuts a character', async () => {
    const pieces: string[] = [];
    // Sampling seed 15 makes the third token the first byte of a multi-byte character.
    const result = await engine.generate({
      images,
      question: 'Stream.',
      maxNewTokens: 3,
      temperature: 1,
      seed: 15,
      onToken: ({ text }) => pieces.push(text),
    });
    expect(result.text.endsWith('\uFFFD')).toBe(true);
    expect(pieces.join('')).toBe(result.text);
  });

  it('stops at a stop token without returning it', async () => {
    const greedy = await engine.generate({ images, question: 'Stop.', maxNewTokens: 3 });
    const second = greedy.tokenIds[1] as number;
    const stopped = await engine.generate({
      images,
      question: 'Stop.',
      maxNewTokens: 3,
      stopTokenIds: [second],
    });
    expect(stopped.tokenIds).toEqual(greedy.tokenIds.slice(0, 1));
    expect(stopped.finishReason).toBe('stop');
    expect(stopped.timings.newTokens).toBe(2);
  });

  it('samples reproducibly for a seed', async () => {
    const sample = (seed: number) =>
      engine.generate({
        images,
        question: 'Sample.',
        maxNewTokens: 6,
        temperature: 1.5,
        topK: 50,
        topP: 0.95,
        seed,
      });
    const [a, b, c] = await Promise.all([sample(7), sample(7), sample(8)]);
    expect(a.tokenIds).toEqual(b?.tokenIds);
    expect(a.tokenIds).not.toEqual(c?.tokenIds);
  });

  it('reports the stages of a request', async () => {
    const { timings } = await engine.generate({ images, question: 'Time.', maxNewTokens: 4 });
    expect(timings.visionMs).toBeGreaterThan(0);
    expect(timings.prefillMs).toBeGreaterThan(0);
    expect(timings.decodeMs).toBeGreaterThan(0);
    expect(timings.totalMs).toBeGreaterThanOrEqual(timings.visionMs + timings.prefillMs + timings.decodeMs);
    expect(timings.newTokens).toBe(4);
  });

  it('stops between decode steps when aborted', async () => {
    const controller = new AbortController();
    let seen = 0;
    const run = engine.generate({
      images,
      question: 'Abort.',
      maxNewTokens: 50,
      signal: controller.signal,
      onToken: () => {
        if (++seen === 2) controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ name: 'AbortError' });
    expect(seen).toBe(2);
    await expect(
      engine.generate({ images, question: 'x', signal: AbortSignal.abort() }),
    ).rejects.toMatchObject({
      name: 'AbortError',
    });
  });
});

describe('Engine choice scoring', () => {
  const choices = ['A', 'B', 'C'];

  it('gives probabilities that sum to 1 and equal the softmax of the full logits restricted to the choices', async () => {
    const result = await engine.scoreChoices({
      images,
      question: viewpointQuestion,
      choices,
      singleToken: true,
    });
    expect(result.probabilities.reduce((a, b) => a + b)).toBeCloseTo(1, 12);
    expect(result.tokenIds).toEqual([[32], [33], [34]]);

    const grids = modelImages.map((m) => m.gridThw);
    const ids = expandImagePlaceholders(engine.tokenizer.encode(result.prompt), grids, layout);
    const features = await Promise.all(modelImages.map((m) => engine.runner.encodeImage(m)));
    const last = await engine.runner.forward({
      ids,
      positionIds: mropePositions(ids, grids, layout).positionIds,
      images: features,
      start: 0,
      end: ids.length,
      cache: engine.runner.emptyCache(),
      logitsToKeep: 1,
    });
    const optionLogits = [32, 33, 34].map((id) => last.logits[id] as number);
    expect(relativeError(result.probabilities, softmax(optionLogits))).toBeLessThan(1e-6);
    const lse = logSumExp(last.logits);
    expect(
      relativeError(
        result.logProbs ?? [],
        optionLogits.map((l) => l - lse),
      ),
    ).toBeLessThan(1e-6);
    expect(result.choiceIndex).toBe(result.probabilities.indexOf(Math.max(...result.probabilities)));
  });

  it.each([
    ['single-token', choices],
    ['multi-token', ['Move to the left', 'Move to the right', 'No movement']],
  ])(
    'gives the same probabilities without log-probabilities (%s choices), and logProbs null',
    async (_kind, asked) => {
      const withLogProbs = await engine.scoreChoices({ images, question: viewpointQuestion, choices: asked });
      const without = await engine.scoreChoices({
        images,
        question: viewpointQuestion,
        choices: asked,
        logProbs: false,
      });
      expect(without.logProbs).toBeNull();
      expect(withLogProbs.logProbs).toHaveLength(asked.length);
      expect(relativeError(without.probabilities, withLogProbs.probabilities)).toBeLessThan(1e-9);
      expect(without.choiceIndex).toBe(withLogProbs.choiceIndex);
    },
  );

  it('scores the choice as the tokens that follow the answer prefix in the whole text', async () => {
    const result = await engine.scoreChoices({ images, question: 'Q', choices, answerPrefix: '<answer>' });
    // "<answer>A" tokenizes as "<", "answer", ">A": the choice token is ">A".
    expect(result.tokenIds.map(([id]) => engine.tokenizer.decode([id as number]))).toEqual([
      '>A',
      '>B',
      '>C',
    ]);
  });

  it('sums the log-probabilities of multi-token choices as a full pass over each sequence does', async () => {
    const long = ['Move to the left', 'Move to the right', 'No movement'];
    const result = await engine.scoreChoices({ images, question: viewpointQuestion, choices: long });
    const grids = modelImages.map((m) => m.gridThw);
    const features = await Promise.all(modelImages.map((m) => engine.runner.encodeImage(m)));
    const vocab = engine.runner.vocabSize;
    for (const [i, choice] of long.entries()) {
      const ids = expandImagePlaceholders(engine.tokenizer.encode(result.prompt + choice), grids, layout);
      const scored = result.tokenIds[i] as number[];
      const full = await engine.runner.forward({
        ids,
        positionIds: mropePositions(ids, grids, layout).positionIds,
        images: features,
        start: 0,
        end: ids.length,
        cache: engine.runner.emptyCache(),
        logitsToKeep: scored.length + 1,
      });
      let expected = 0;
      scored.forEach((id, k) => {
        const row = full.logits.subarray(k * vocab, (k + 1) * vocab);
        expected += (row[id] as number) - logSumExp(row);
      });
      expect(Math.abs((result.logProbs?.[i] as number) - expected)).toBeLessThan(1e-4 * Math.abs(expected));
    }
    expect(result.probabilities.reduce((a, b) => a + b)).toBeCloseTo(1, 12);
  });

  it('scores several questions from one shared prefix as it scores each alone', async () => {
    const questions = [
      { question: viewpointQuestion, choices },
      {
        question: viewpointQuestion.replace('position', 'orientation'),
        choices: ['A', 'B'],
        answerPrefix: '<answer>',
      },
      { question: 'Which way?', choices: ['left', 'right', 'no movement'] },
    ];
    const shared = await engine.scoreQuestions({ images, system: 'Be exact.', questions });
    for (const [i, q] of questions.entries()) {
      const alone = await engine.scoreChoices({ images, system: 'Be exact.', ...q });
      const result = shared.results[i];
      expect(result?.tokenIds).toEqual(alone.tokenIds);
      expect(relativeError(result?.logProbs ?? [], alone.logProbs ?? [])).toBeLessThan(1e-4);
      expect(relativeError(result?.probabilities ?? [], alone.probabilities)).toBeLessThan(1e-4);
    }
    // The images and system prompt (over 500 tokens) were prefilled once, not three times.
    const alonePrompt = (await engine.scoreChoices({ images, system: 'Be exact.', ...questions[2]! }))
      .timings;
    expect(shared.timings.promptTokens).toBeLessThan(1.5 * alonePrompt.promptTokens);
  });

  it('answers and scores from one prefill, as generate and scoreChoices do separately', async () => {
    const request = { images, question: viewpointQuestion, maxNewTokens: 5 };
    const asked = await engine.ask({ ...request, choices: { choices, answerPrefix: '<answer>' } });
    const generated = await engine.generate(request);
    const scored = await engine.scoreChoices({
      images,
      question: viewpointQuestion,
      choices,
      answerPrefix: '<answer>',
    });
    expect(asked.tokenIds).toEqual(generated.tokenIds);
    expect(asked.text).toBe(generated.text);
    expect(relativeError(asked.scores?.probabilities ?? [], scored.probabilities)).toBeLessThan(1e-4);
  });

  it.each([
    ['no choices', { choices: [] }, /no answer choices/],
    ['duplicate choices', { choices: ['A', 'B', 'A'] }, /'A' is given twice/],
    ['an empty choice', { choices: ['A', ''] }, /empty string/],
    [
      'a multi-token choice where single tokens were asked',
      { choices: ['A', 'Move to the left'], singleToken: true },
      /'Move to the left' is 4 tokens .* single-token scoring/,
    ],
  ])('refuses %s', async (_name, options, message) => {
    const run = engine.scoreChoices({ images, question: 'Q', ...options });
    await expect(run).rejects.toThrow(ChoiceError);
    await expect(run).rejects.toThrow(message);
  });
});

describe('Engine prefix cache (prompt text before the first image)', () => {
  it('starts later requests after the kept text, with the results of an engine without it', async () => {
    const kept = await Engine.create({ modelDir: dir, log: () => {} });
    const plain = await Engine.create({ modelDir: dir, log: () => {}, prefixCacheMib: 0 });
    try {
      const starts: number[] = [];
      // Record where each decoder pass starts.
      const runner = kept.runner;
      const forward = runner.forward.bind(runner);
      const forwardLogits = runner.forwardLogits.bind(runner);
      runner.forward = (input) => (starts.push(input.start), forward(input));
      runner.forwardLogits = (input) => (starts.push(input.start), forwardLogits(input));
      const system = 'Be exact.';
      const question = {
        system,
        question: viewpointQuestion,
        choices: ['A', 'B', 'C'],
        answerPrefix: '<answer>',
      };
      const rendered = kept.renderPrompt({ images, system, question: 'Q' });
      const headTokens = kept.tokenizer.encode(rendered.slice(0, rendered.indexOf('<|image_pad|>'))).length;

      const first = await kept.scoreChoices({ images, ...question });
      expect(starts[0]).toBe(0);
      expect(kept.prefixCacheStats.entries).toBe(1);
      expect(
        relativeError(first.probabilities, (await plain.scoreChoices({ images, ...question })).probabilities),
      ).toBeLessThan(1e-4);

      // Other images, the same text before them: the prefill starts after it.
      const others = [...images].reverse();
      starts.length = 0;
      const second = await kept.scoreChoices({ images: others, ...question });
      expect(starts[0]).toBe(headTokens);
      const alone = await plain.scoreChoices({ images: others, ...question });
      expect(relativeError(second.logProbs ?? [], alone.logProbs ?? [])).toBeLessThan(1e-4);

      starts.length = 0;
      const asked = {
        images: others,
        system,
        question: viewpointQuestion,
        maxNewTokens: 4,
        outputLogits: true,
      };
      const generated = await kept.generate(asked);
      expect(starts[0]).toBe(headTokens);
      const reference = await plain.generate(asked);
      expect(generated.tokenIds).toEqual(reference.tokenIds);
      generated.logits?.forEach((row, step) => {
        expect(relativeError(row, reference.logits?.[step] as Float32Array)).toBeLessThan(1e-4);
      });

      const questions = [question, { ...question, question: 'Which way? A: left B: right C: none' }];
      starts.length = 0;
      const set = await kept.scoreQuestions({ images: others, system, questions });
      expect(starts[0]).toBe(headTokens);
      const setAlone = await plain.scoreQuestions({ images: others, system, questions });
      set.results.forEach((result, i) => {
        expect(relativeError(result.probabilities, setAlone.results[i]?.probabilities ?? [])).toBeLessThan(
          1e-4,
        );
      });

      // Another system prompt is another entry; the engine without the cache keeps none.
      await kept.scoreChoices({ images, ...question, system: 'Be brief.' });
      expect(kept.prefixCacheStats.entries).toBe(2);
      expect(plain.prefixCacheStats).toEqual({ entries: 0, bytes: 0 });
    } finally {
      await kept.dispose();
      await plain.dispose();
    }
  });
});

describe('Engine vision cache', () => {
  it('encodes a keyed frame once and again when its preprocessing changes', async () => {
    const cached = await Engine.create({ modelDir: dir, log: () => {}, visionCacheMib: 4 });
    try {
      const small = await preprocess(rgb[0] as RgbImage, { maxPixels: 112 * 112, minPixels: 3136 });
      const keyed = [
        { image: modelImages[0] as ModelImage, key: 'front@1' },
        { image: modelImages[1] as ModelImage, key: 'left@1' },
      ];
      const first = await cached.scoreChoices({ images: keyed, question: 'Q', choices: ['A', 'B'] });
      expect(first.timings.visionMs).toBeGreaterThan(0);
      expect(cached.visionCacheStats.entries).toBe(2);
      const again = await cached.scoreChoices({ images: keyed, question: 'Q2', choices: ['A', 'B'] });
      expect(again.timings.visionMs).toBe(0);
      const resized = await cached.scoreChoices({
        images: [{ image: small, key: 'front@1' }, keyed[1] as EngineImage],
        question: 'Q',
        choices: ['A', 'B'],
      });
      expect(resized.timings.visionMs).toBeGreaterThan(0);
      expect(cached.visionCacheStats.entries).toBe(3);
    } finally {
      await cached.dispose();
    }
  });

  it('stays within its byte budget', async () => {
    // One 448x448 frame is 256 features x 16 floats = 16 KiB; 1 MiB holds 64 of them.
    const bounded = await Engine.create({ modelDir: dir, log: () => {}, visionCacheMib: 1 });
    try {
      const frame = modelImages[0] as ModelImage;
      for (let i = 0; i < 70; i++) {
        expect(
          await bounded.cacheImages([{ image: frame, key: `cam@${i}` }, { image: frame }]),
        ).toMatchObject({
          encoded: 1,
        });
      }
      expect(bounded.visionCacheStats).toEqual({ entries: 64, bytes: 1024 * 1024 });
      // The oldest frames were evicted, the newest are still there.
      expect(await bounded.cacheImages([{ image: frame, key: 'cam@69' }])).toEqual({
        encoded: 0,
        visionMs: 0,
      });
      expect((await bounded.cacheImages([{ image: frame, key: 'cam@0' }])).encoded).toBe(1);
    } finally {
      await bounded.dispose();
    }
  });
});

describe('Engine.create options', () => {
  it.each([
    [{ visionCacheMib: -1 }, 'visionCacheMib must be a whole number >= 0, got -1'],
    [{ prefixCacheMib: Number.NaN }, 'prefixCacheMib must be a whole number >= 0, got NaN'],
    [{ maxContextTokens: -5 }, 'maxContextTokens must be a whole number >= 0, got -5'],
    [{ maxNewTokens: 0 }, 'maxNewTokens must be a whole number >= 1, got 0'],
    [{ visionCacheMib: 1.5 }, 'visionCacheMib must be a whole number >= 0, got 1.5'],
  ])('refuses %j before loading anything', async (bad, message) => {
    await expect(Engine.create({ modelDir: dir, log: () => {}, ...bad })).rejects.toThrow(message);
  });
});

describe('engineOptionsFromConfig', () => {
  it('maps the model parameters, and refuses an empty path', () => {
    const config = modelSchema.parse({ path: '/m', device: 'cuda', device_id: 1, vision_cache_mib: 8 });
    expect(engineOptionsFromConfig(config)).toEqual({
      modelDir: '/m',
      dtype: 'auto',
      graphDtypes: {},
      device: 'cuda',
      deviceId: 1,
      maxContextTokens: 0,
      visionCacheMib: 8,
      prefixCacheMib: 32,
      maxNewTokens: 256,
    });
    const mixed = modelSchema.parse({
      path: '/m',
      dtype: 'fp16',
      vision_dtype: 'fp32',
      decoder_dtype: 'q4f16',
    });
    expect(engineOptionsFromConfig(mixed)).toMatchObject({
      dtype: 'fp16',
      graphDtypes: { visionEncoder: 'fp32', decoder: 'q4f16' },
    });
    expect(() => engineOptionsFromConfig(modelSchema.parse({}))).toThrow(/model\.path is empty/);
  });
});

describe('Engine bad requests', () => {
  it('refuses a prompt whose placeholders do not match the images', async () => {
    const prompt = engine.renderPrompt({ images: images.slice(0, 1), question: 'Q' });
    await expect(engine.generate({ images, prompt, maxNewTokens: 1 })).rejects.toThrow(RequestError);
    await expect(engine.generate({ images, prompt, maxNewTokens: 1 })).rejects.toThrow(
      /1 image placeholder but 2 images were given/,
    );
    await expect(
      engine.scoreChoices({ images, question: 'see <|image_pad|>', choices: ['A', 'B'] }),
    ).rejects.toThrow(/3 image placeholders but 2 images/);
  });

  it('refuses a prompt longer than the context', async () => {
    const short = await Engine.create({ modelDir: dir, log: () => {}, maxContextTokens: 300 });
    try {
      const run = short.generate({ images, question: 'Q', maxNewTokens: 1 });
      await expect(run).rejects.toThrow(ContextLengthError);
      await expect(run).rejects.toThrow(/prompt has \d+ tokens, more than the context limit of 300 tokens/);
      await expect(short.scoreChoices({ images, question: 'Q', choices: ['A'] })).rejects.toThrow(
        ContextLengthError,
      );
    } finally {
      await short.dispose();
    }
  });

  it('says a prompt that fills the context leaves no room to generate', async () => {
    const promptTokens = (await engine.generate({ images, question: 'Q', maxNewTokens: 1 })).timings
      .promptTokens;
    const full = await Engine.create({ modelDir: dir, log: () => {}, maxContextTokens: promptTokens });
    try {
      await expect(full.generate({ images, question: 'Q', maxNewTokens: 1 })).rejects.toThrow(
        `prompt has ${promptTokens} tokens, which leaves no room to generate within the context limit of ${promptTokens} tokens`,
      );
    } finally {
      await full.dispose();
    }
  });

  it.each([
    ['generation', () => engine.generate({ images: [], prompt: '', maxNewTokens: 1 })],
    ['scoring', () => engine.scoreChoices({ images: [], prompt: '', choices: ['A', 'B'] })],
  ])('refuses an empty prompt for %s, saying so', async (_name, run) => {
    await expect(run()).rejects.toThrow(RequestError);
    await expect(run()).rejects.toThrow('the prompt is empty: nothing to answer from');
  });

  it('caps generation at the context limit', async () => {
    const promptTokens = (await engine.generate({ images, question: 'Q', maxNewTokens: 1 })).timings
      .promptTokens;
    const capped = await Engine.create({ modelDir: dir, log: () => {}, maxContextTokens: promptTokens + 3 });
    try {
      const result = await capped.generate({ images, question: 'Q', maxNewTokens: 10 });
      expect(result.tokenIds.length).toBeLessThanOrEqual(3);
    } finally {
      await capped.dispose();
    }
  });

  it.each([
    ['neither question nor prompt', {}, /needs a question or a prompt/],
    ['both question and prompt', { question: 'Q', prompt: 'P' }, /either prompt, or question/],
    ['zero new tokens', { question: 'Q', maxNewTokens: 0 }, /maxNewTokens must be a positive integer, got 0/],
    ['a negative temperature', { question: 'Q', temperature: -1 }, /temperature/],
  ])('refuses %s', async (_name, fields, message) => {
    const run = engine.generate({ images, ...fields });
    await expect(run).rejects.toThrow(RequestError);
    await expect(run).rejects.toThrow(message);
  });

  it('refuses pixel values that do not fit the grid', async () => {
    const image = modelImages[0] as ModelImage;
    const broken = { ...image, pixelValues: image.pixelValues.subarray(1) };
    await expect(engine.generate({ images: [{ image: broken }], question: 'Q' })).rejects.toThrow(
      /pixelValues has \d+ values, not a whole number of rows/,
    );
  });

  it('refuses a model whose tokenizer lacks the image token', async () => {
    const tokenizer = await readFolderJson(dir, 'tokenizer.json');
    const added = (tokenizer.added_tokens as { content: string }[]).filter(
      (t) => t.content !== '<|image_pad|>',
    );
    const variant = await variantFolder(dir, {
      'tokenizer.json': JSON.stringify({ ...tokenizer, added_tokens: added }),
    });
    try {
      const run = Engine.create({ modelDir: variant.dir, log: () => {} });
      await expect(run).rejects.toThrow(TokenizerError);
      await expect(run).rejects.toThrow(/no '<\|image_pad\|>' token with id 151655/);
    } finally {
      await variant.remove();
    }
  });
});

describe('Engine prompt caches', () => {
  it('answers a prompt it has tokenized before, with other image sizes, as a fresh engine does', async () => {
    const question = { system: 'Be exact.', question: viewpointQuestion };
    const choices = { choices: ['A', 'B', 'C'], answerPrefix: '<answer>' };
    const reversed = [...images].reverse();
    // The engine has seen this prompt with the images in one order; the other order has other grids.
    await engine.scoreChoices({ images, ...question, ...choices });
    await engine.generate({ images, ...question, maxNewTokens: 2 });
    const fresh = await Engine.create({ modelDir: dir, log: () => {} });
    try {
      for (const order of [reversed, images]) {
        const [cached, expected] = await Promise.all([
          engine.scoreChoices({ images: order, ...question, ...choices }),
          fresh.scoreChoices({ images: order, ...question, ...choices }),
        ]);
        expect(cached.probabilities).toEqual(expected.probabilities);
        expect(cached.timings.promptTokens).toBe(expected.timings.promptTokens);
        const [generated, reference] = await Promise.all([
          engine.generate({ images: order, ...question, maxNewTokens: 3 }),
          fresh.generate({ images: order, ...question, maxNewTokens: 3 }),
        ]);
        expect(generated.tokenIds).toEqual(reference.tokenIds);
        expect(generated.timings.promptTokens).toBe(reference.timings.promptTokens);
      }
    } finally {
      await fresh.dispose();
    }
  });

  it('keeps prompt, answer prefix and choice apart in its key, whatever characters they hold', async () => {
    const choices = ['yes', 'no'];
    const first = { images: [], prompt: '<|im_start|>user\nhi\u0000there', answerPrefix: '', choices };
    const second = { images: [], prompt: '<|im_start|>user\nhi', answerPrefix: 'there\u0000', choices };
    await engine.scoreChoices(first);
    const fresh = await Engine.create({ modelDir: dir, log: () => {} });
    try {
      const [cached, expected] = await Promise.all([engine.scoreChoices(second), fresh.scoreChoices(second)]);
      expect(cached.probabilities).toEqual(expected.probabilities);
    } finally {
      await fresh.dispose();
    }
  });
});
