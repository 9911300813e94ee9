/**
 * @jest-environment ./test/helpers/ort-jest-environment.mjs
 */
import { bundledModelDir } from '../bundled.js';
import { Engine } from '../engine.js';
import { loadTransformersReference, type TransformersReference } from '../transformers-reference.js';
import { OPTION_LETTERS, viewpointQuestion } from '../../spatial/prompts.js';
import { renderPairs, toModelImage } from './evaluate.js';

// The bundled model through @huggingface/transformers (the reference implementation of the
// folder layout) and through our engine: same prompt, same images, same answer distribution.
let engine: Engine;
let reference: TransformersReference;

beforeAll(async () => {
  engine = await Engine.create({ modelDir: bundledModelDir() });
  reference = await loadTransformersReference(bundledModelDir());
});

afterAll(async () => {
  await Promise.all([engine?.dispose(), reference?.dispose()]);
});

it('scores the letters of a viewpoint question as @huggingface/transformers does', async () => {
  const [pair] = renderPairs(1_000_001, 1, 4);
  if (!pair) throw new Error('no pair');
  const question = viewpointQuestion('yawRotation', ['right', 'none', 'left']);
  const images = await Promise.all(pair.images.map(async (image) => ({ image: await toModelImage(image) })));
  const ours = await engine.scoreChoices({ images, question, choices: [...OPTION_LETTERS] });

  const inputs = await reference.prepare(ours.prompt, pair.images);
  expect(inputs.grids).toEqual([
    [1, 16, 16],
    [1, 16, 16],
  ]);
  const logits = await reference.prefillLogits(inputs);
  const vocab = logits.length / inputs.inputIds.length;
  const last = logits.subarray(logits.length - vocab);
  const ids = ours.tokenIds.map((t) => t[0] as number);
  const top = Math.max(...ids.map((id) => last[id] as number));
  const exp = ids.map((id) => Math.exp((last[id] as number) - top));
  const total = exp.reduce((a, b) => a + b, 0);
  exp.forEach((e, i) => expect(e / total).toBeCloseTo(ours.probabilities[i] as number, 4));
});
