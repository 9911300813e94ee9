// Our engine's side of the GPU measurement (scripts/gpu/measure.sh): the same tokens and pixels as
// scripts/gpu/torch_bench.py (its inputs.json and image*.f32), through onnxruntime-node on CUDA.
// Usage: node --import tsx scripts/gpu/engine-bench.ts MODEL_DIR INPUTS_DIR OUT_JSON [--dtype fp16]
//        [--decode-tokens 32] [--repeats 5] [--allow-cpu]
// or bundled for a machine without the repository (see measure.sh --bundle).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { Engine, type EngineImage } from '../../src/model/engine.js';
import type { ModelDtype } from '../../src/model/folder.js';
import { expandImagePlaceholders, mropePositions } from '../../src/model/image-tokens.js';
import type { ImageFeatures, KvCache } from '../../src/model/runner.js';

interface Inputs {
  readonly images: { readonly grid_thw: [number, number, number]; readonly file: string }[];
  readonly questions: { readonly question: string; readonly prompt: string; readonly ids: number[] }[];
  readonly choices: string[];
  readonly choice_ids: number[];
}

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    dtype: { type: 'string', default: 'fp16' },
    'decode-tokens': { type: 'string', default: '32' },
    repeats: { type: 'string', default: '5' },
    'allow-cpu': { type: 'boolean', default: false },
  },
});
const [modelDir, inputsDir, outFile] = positionals;
if (!modelDir || !inputsDir || !outFile) {
  throw new Error('usage: engine-bench MODEL_DIR INPUTS_DIR OUT_JSON [--dtype fp16] [--allow-cpu]');
}
const decodeTokens = Number(values['decode-tokens']);
const repeats = Number(values.repeats);

const inputs = JSON.parse(readFileSync(join(inputsDir, 'inputs.json'), 'utf8')) as Inputs;
const images: EngineImage[] = inputs.images.map(({ grid_thw: grid, file }) => {
  const bytes = readFileSync(join(inputsDir, file));
  const pixelValues = new Float32Array(
    bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
  );
  return { image: { pixelValues, gridThw: grid, resizedWidth: grid[2] * 14, resizedHeight: grid[1] * 14 } };
});

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2
    ? (s[(s.length - 1) / 2] as number)
    : ((s[s.length / 2 - 1] as number) + (s[s.length / 2] as number)) / 2;
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; result: T }> {
  let result = await work();
  const times: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const start = performance.now();
    result = await work();
    times.push(performance.now() - start);
  }
  return { ms: median(times), result };
}

const log: string[] = [];
const started = performance.now();
const engine = await Engine.create({
  modelDir,
  dtype: values.dtype as ModelDtype,
  device: 'cuda',
  log: (line) => log.push(line),
});
const loadMs = performance.now() - started;
const report: Record<string, unknown> = {
  execution_provider: engine.executionProvider,
  fallback_reason: engine.fallbackReason,
  log,
  onnxruntime_node: ort.env.versions.common,
  dtype: values.dtype,
  load_ms: loadMs,
};

if (engine.executionProvider !== 'cuda' && !values['allow-cpu']) {
  report.skipped = `not on CUDA: ${engine.fallbackReason ?? 'unknown reason'}`;
} else {
  const runner = engine.runner;
  const layout = {
    imageTokenId: engine.folder.tokenIds.imageTokenId,
    spatialMergeSize: engine.folder.dims.spatialMergeSize,
  };
  const grids = images.map((im) => im.image.gridThw);
  const first = inputs.questions[0];
  if (!first) throw new Error('inputs.json has no questions');
  const ids = expandImagePlaceholders(engine.tokenizer.encode(first.prompt), grids, layout);
  report.same_ids_as_python = inputs.questions.every(
    (q) =>
      JSON.stringify(expandImagePlaceholders(engine.tokenizer.encode(q.prompt), grids, layout)) ===
      JSON.stringify(q.ids),
  );
  const { positionIds, ropeDelta } = mropePositions(ids, grids, layout);

  const vision = await timed(async () => {
    const features: ImageFeatures[] = [];
    for (const { image } of images) features.push(await runner.encodeImage(image));
    return features;
  });
  const features = vision.result;
  const prefillInput = {
    ids,
    positionIds,
    images: features,
    start: 0,
    end: ids.length,
    cache: runner.emptyCache(),
    logitsToKeep: 1,
  };
  const prefill = () => runner.forward(prefillInput);
  const prefilled = await timed(prefill);
  // The same pass without fetching its KV cache (present.*), as option scoring's last pass runs.
  const prefilledLogitsOnly = await timed(() => runner.forwardLogits(prefillInput));

  const decodeRun = async (): Promise<number> => {
    let cache: KvCache = (await prefill()).cache;
    const sequence = [...ids];
    const token = inputs.choice_ids[0] ?? 32;
    const start = performance.now();
    for (let k = 0; k < decodeTokens; k++) {
      sequence.push(token);
      const position = new BigInt64Array(3).fill(BigInt(sequence.length - 1 + ropeDelta));
      const out = await runner.forward({
        ids: sequence,
        positionIds: position,
        images: [],
        start: sequence.length - 1,
        end: sequence.length,
        cache,
        logitsToKeep: 1,
      });
      cache = out.cache;
    }
    return (performance.now() - start) / decodeTokens;
  };
  await decodeRun();
  const decodeTimes: number[] = [];
  for (let i = 0; i < Math.max(1, Math.floor(repeats / 2)); i++) decodeTimes.push(await decodeRun());

  const viewpoint = await timed(() =>
    engine.scoreQuestions({
      images,
      questions: inputs.questions.map((q) => ({ question: q.question, choices: inputs.choices })),
    }),
  );
  Object.assign(report, {
    vision_ms_two_images: vision.ms,
    vision_method: 'one image per vision_encoder run',
    prefill_ms: prefilled.ms,
    prefill_logits_only_ms: prefilledLogitsOnly.ms,
    prefill_tokens: ids.length,
    decode_ms_per_token: median(decodeTimes),
    decode_tokens: decodeTokens,
    viewpoint_e2e_ms: viewpoint.ms,
    viewpoint_method:
      'Engine.scoreQuestions: vision (uncached), shared prefix prefilled once, each question continues it',
    viewpoint_timings: viewpoint.result.timings,
    viewpoint_probabilities: viewpoint.result.results.map((r) => r.probabilities),
  });
}
await engine.dispose();
writeFileSync(outFile, `${JSON.stringify(report, null, 2)}\n`);
console.log(JSON.stringify(report, null, 2));
