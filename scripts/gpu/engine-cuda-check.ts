// Runs the engine on CUDA and on CPU over the same model folder and inputs, and reports whether
// CUDA really ran, how far its scores and logits are from the CPU's, and the timings of both.
// Usage: node --import tsx scripts/gpu/engine-cuda-check.ts MODEL_DIR, or bundled for a machine without the
// repository: esbuild scripts/gpu/engine-cuda-check.ts --bundle --platform=node --format=esm
//   --external:onnxruntime-node --outfile=check.mjs (then onnxruntime-node 1.29 with setup:cuda next to it).
import { Engine, type EngineImage } from '../../src/model/engine.js';
import { viewpointQuestion, defaultOptionOrders } from '../../src/spatial/prompts.js';

const modelDir = process.argv[2] ?? '';
if (!modelDir) throw new Error('usage: engine-cuda-check MODEL_DIR');

function image(seed: number, grid = 16): EngineImage {
  const rows = grid * grid;
  const pixelValues = new Float32Array(rows * 1176);
  let state = seed >>> 0;
  for (let i = 0; i < pixelValues.length; i++) {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    pixelValues[i] = (state / 2 ** 32) * 4 - 2;
  }
  return {
    image: { pixelValues, gridThw: [1, grid, grid], resizedWidth: grid * 14, resizedHeight: grid * 14 },
  };
}

const images = [image(1), image(2)];
const questions = defaultOptionOrders(3).flatMap((order) =>
  (['egoTranslation', 'objectTranslation', 'yawRotation'] as const).map((kind) => ({
    question: viewpointQuestion(kind, order),
    choices: ['A', 'B', 'C'],
  })),
);

async function measure(device: 'cpu' | 'cuda') {
  const lines: string[] = [];
  const engine = await Engine.create({ modelDir, device, log: (line) => lines.push(line) });
  const warm = await engine.scoreQuestions({ images, questions });
  const start = performance.now();
  const scores = await engine.scoreQuestions({ images, questions });
  const scoreMs = performance.now() - start;
  const gen = await engine.generate({
    images,
    question: 'Describe the scene.',
    maxNewTokens: 16,
    outputLogits: true,
  });
  const result = {
    device,
    executionProvider: engine.executionProvider,
    fallbackReason: engine.fallbackReason,
    log: lines,
    scoreMs,
    scoreTimings: scores.timings,
    probabilities: scores.results.map((r) => r.probabilities),
    tokens: gen.tokenIds,
    generateTimings: gen.timings,
    firstLogits: gen.logits?.[0],
    warmed: warm.results.length,
  };
  await engine.dispose();
  return result;
}

const cuda = await measure('cuda');
const cpu = await measure('cpu');
let maxProbDiff = 0;
cuda.probabilities.forEach((p, i) =>
  p.forEach(
    (v, j) => (maxProbDiff = Math.max(maxProbDiff, Math.abs(v - (cpu.probabilities[i]?.[j] ?? NaN)))),
  ),
);
let maxLogitDiff = 0;
let maxLogit = 0;
const a = cuda.firstLogits;
const b = cpu.firstLogits;
if (a && b) {
  for (let i = 0; i < a.length; i++) {
    maxLogitDiff = Math.max(maxLogitDiff, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
    maxLogit = Math.max(maxLogit, Math.abs(b[i] ?? 0));
  }
}
const summary = {
  cuda: {
    ep: cuda.executionProvider,
    fallback: cuda.fallbackReason,
    log: cuda.log,
    scoreMs: cuda.scoreMs,
    score: cuda.scoreTimings,
    generate: cuda.generateTimings,
  },
  cpu: {
    ep: cpu.executionProvider,
    scoreMs: cpu.scoreMs,
    score: cpu.scoreTimings,
    generate: cpu.generateTimings,
  },
  maxProbabilityDiff: maxProbDiff,
  maxFirstStepLogitDiff: maxLogitDiff,
  maxAbsLogit: maxLogit,
  sameGreedyTokens: JSON.stringify(cuda.tokens) === JSON.stringify(cpu.tokens),
};
console.log(JSON.stringify(summary, null, 2));
