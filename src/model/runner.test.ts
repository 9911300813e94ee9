import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tinyModelDir } from '../../test/helpers/tiny-model.js';
import { preprocess } from '../image/preprocess.js';
import { syntheticImage } from '../image/reference.js';
import type { ModelImage } from '../image/types.js';
import { ModelLoadError } from './errors.js';
import { loadModelFolder, type ModelFolder } from './folder.js';
import { expandImagePlaceholders, mropePositions, slicePositions } from './image-tokens.js';
import * as ort from 'onnxruntime-node';
import { floatData, ModelRunner, type ImageFeatures } from './runner.js';
import { externalizeWeights, float16Interface, variantFolder } from './test-folders.js';

let folder: ModelFolder;
let runner: ModelRunner;
let image: ModelImage;

beforeAll(async () => {
  const dir = await tinyModelDir();
  folder = await loadModelFolder(dir);
  runner = await ModelRunner.create(folder, { log: () => {} });
  image = await preprocess(syntheticImage(224, 168, 3), { maxPixels: 448 * 448, minPixels: 3136 });
});

afterAll(async () => {
  await runner.dispose();
});

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] as number) - (b[i] as number)));
  return m;
}

/** A chat prompt around the test image, expanded, with `extra` text tokens after it. */
function promptWithImage(extra: number): { ids: number[]; positionIds: BigInt64Array } {
  const layout = { imageTokenId: 151655, spatialMergeSize: 2 };
  const prompt = [151644, 872, 198, 151652, 151655, 151653, 9064, 374, 151645, 198, 151644, 77091, 198];
  const ids = [
    ...expandImagePlaceholders(prompt, [image.gridThw], layout),
    ...Array.from({ length: extra }, (_, i) => 32 + i),
  ];
  return { ids, positionIds: mropePositions(ids, [image.gridThw], layout).positionIds };
}

/** The pass over ids[0, split) from an empty cache, and the input (less logitsToKeep) continuing it. */
async function prefillThenRest(
  subject: ModelRunner,
  ids: number[],
  positionIds: BigInt64Array,
  images: ImageFeatures[],
  split: number,
) {
  const head = await subject.forward({
    ids,
    positionIds: slicePositions(positionIds, 0, split),
    images,
    start: 0,
    end: split,
    cache: subject.emptyCache(),
    logitsToKeep: 1,
  });
  const rest = {
    ids,
    positionIds: slicePositions(positionIds, split, ids.length),
    images,
    start: split,
    end: ids.length,
    cache: head.cache,
  };
  return { head, rest };
}

describe('ModelRunner', () => {
  it('encodes an image into one feature row per merged patch', async () => {
    const features = await runner.encodeImage(image);
    const [t, h, w] = image.gridThw;
    expect(features.tokens).toBe((t * h * w) / 4);
    expect(features.hidden).toBe(16);
    expect(features.data).toBeInstanceOf(Float32Array);
    expect(features.data.length).toBe(features.tokens * 16);
  });

  it('continues a prefix from its KV cache exactly as a full pass computes it', async () => {
    const layout = { imageTokenId: 151655, spatialMergeSize: 2 };
    const prompt = [151644, 872, 198, 151652, 151655, 151653, 9064, 374, 151645, 198, 151644, 77091, 198];
    const ids = [...expandImagePlaceholders(prompt, [image.gridThw], layout), 32, 33, 34, 35, 36];
    const { positionIds } = mropePositions(ids, [image.gridThw], layout);
    const images = [await runner.encodeImage(image)];
    const full = await runner.forward({
      ids,
      positionIds,
      images,
      start: 0,
      end: ids.length,
      cache: runner.emptyCache(),
      logitsToKeep: 0,
    });
    expect(full.rows).toBe(ids.length);
    const vocab = runner.vocabSize;
    const split = ids.length - 5;
    const head = await runner.forward({
      ids,
      positionIds: slicePositions(positionIds, 0, split),
      images,
      start: 0,
      end: split,
      cache: runner.emptyCache(),
      logitsToKeep: 1,
    });
    expect(head.rows).toBe(1);
    expect(head.cache.length).toBe(split);
    expect(maxAbsDiff(head.logits, full.logits.subarray((split - 1) * vocab, split * vocab))).toBeLessThan(
      1e-4,
    );
    // Two tokens at once, then one at a time.
    const chunk = await runner.forward({
      ids,
      positionIds: slicePositions(positionIds, split, split + 2),
      images,
      start: split,
      end: split + 2,
      cache: head.cache,
      logitsToKeep: 2,
    });
    expect(maxAbsDiff(chunk.logits, full.logits.subarray(split * vocab, (split + 2) * vocab))).toBeLessThan(
      1e-4,
    );
    let cache = chunk.cache;
    for (let i = split + 2; i < ids.length; i++) {
      const step = await runner.forward({
        ids,
        positionIds: slicePositions(positionIds, i, i + 1),
        images,
        start: i,
        end: i + 1,
        cache,
        logitsToKeep: 1,
      });
      expect(maxAbsDiff(step.logits, full.logits.subarray(i * vocab, (i + 1) * vocab))).toBeLessThan(1e-4);
      cache = step.cache;
    }
  });

  it('fetches only the logits for a pass nothing continues from, the same logits as a full pass', async () => {
    const { ids, positionIds } = promptWithImage(0);
    const images = [await runner.encodeImage(image)];
    const { rest } = await prefillThenRest(runner, ids, positionIds, images, ids.length - 3);
    for (const logitsToKeep of [1, 3]) {
      const full = await runner.forward({ ...rest, logitsToKeep });
      const logitsOnly = await runner.forwardLogits({ ...rest, logitsToKeep });
      expect(logitsOnly).not.toHaveProperty('cache');
      expect(logitsOnly.rows).toBe(logitsToKeep);
      expect(maxAbsDiff(logitsOnly.logits, full.logits)).toBe(0);
      expect(full.cache.tensors.length).toBeGreaterThan(0);
    }
  });

  it("takes a prefix of a pass's cache that continues as the prefix's own prefill does", async () => {
    const { ids, positionIds } = promptWithImage(4);
    const images = [await runner.encodeImage(image)];
    const split = ids.length - 4;
    const { head, rest } = await prefillThenRest(runner, ids, positionIds, images, split);
    const whole = await runner.forward({
      ...rest,
      start: 0,
      positionIds,
      cache: runner.emptyCache(),
      logitsToKeep: 1,
    });
    const prefix = runner.cachePrefix(whole.cache, split);
    expect(prefix.length).toBe(split);
    expect(prefix.tensors.map((t) => t.dims)).toEqual(head.cache.tensors.map((t) => t.dims));
    const fromPrefix = await runner.forward({ ...rest, cache: prefix, logitsToKeep: 4 });
    const fromHead = await runner.forward({ ...rest, cache: head.cache, logitsToKeep: 4 });
    expect(maxAbsDiff(fromPrefix.logits, fromHead.logits)).toBeLessThan(1e-4);
    expect(() => runner.cachePrefix(head.cache, split + 1)).toThrow(
      `cache prefix of ${split + 1} tokens asked from a cache of ${split}`,
    );
  });

  it('runs graphs of different float types (fp16 vision encoder and decoder, fp32 embedding) as the fp32 ones', async () => {
    const dir = await tinyModelDir();
    const graph = (name: string) => readFile(join(dir, 'onnx', `${name}.onnx`));
    const variant = await variantFolder(dir, {
      'onnx/vision_encoder_fp16.onnx': float16Interface(await graph('vision_encoder')),
      'onnx/decoder_model_merged_fp16.onnx': float16Interface(await graph('decoder_model_merged')),
    });
    const mixedFolder = await loadModelFolder(variant.dir, {
      dtype: 'fp16',
      graphDtypes: { embedTokens: 'fp32' },
    });
    const mixed = await ModelRunner.create(mixedFolder, { log: () => {} });
    try {
      const { ids, positionIds } = promptWithImage(1);
      const passes = async (subject: ModelRunner) => {
        const images = [await subject.encodeImage(image)];
        const { head, rest } = await prefillThenRest(subject, ids, positionIds, images, ids.length - 1);
        return { images, head, step: await subject.forward({ ...rest, logitsToKeep: 1 }) };
      };
      const ours = await passes(mixed);
      const reference = await passes(runner);
      expect(ours.images[0]?.data).toBeInstanceOf(Float32Array);
      expect(ours.step.cache.tensors.map((t) => t.type)).toEqual(
        ours.step.cache.tensors.map(() => 'float16'),
      );
      // fp16 rounding of the features, the cache and the logits (about 2.5 in size here).
      expect(maxAbsDiff(ours.head.logits, reference.head.logits)).toBeLessThan(2e-2);
      expect(maxAbsDiff(ours.step.logits, reference.step.logits)).toBeLessThan(2e-2);
    } finally {
      await mixed.dispose();
      await variant.remove();
    }
  });

  it('refuses a cache that does not match the segment start', async () => {
    await expect(
      runner.forward({
        ids: [1, 2],
        positionIds: new BigInt64Array(3),
        images: [],
        start: 1,
        end: 2,
        cache: runner.emptyCache(),
        logitsToKeep: 1,
      }),
    ).rejects.toThrow(RangeError);
  });

  it('falls back to CPU with one log line when CUDA is asked for but unavailable', async () => {
    const lines: string[] = [];
    const cuda = await ModelRunner.create(folder, { device: 'cuda', log: (line) => lines.push(line) });
    try {
      expect(lines).toHaveLength(1);
      if (cuda.executionProvider === 'cpu') {
        expect(cuda.fallbackReason).toMatch(/CUDA/);
        expect(lines[0]).toMatch(/running on CPU although device cuda was requested: .*CUDA/);
      } else {
        expect(cuda.fallbackReason).toBeNull();
        expect(lines[0]).toMatch(/running on CUDA device 0/);
      }
    } finally {
      await cuda.dispose();
    }
  });

  it('says so when CPU was asked for', async () => {
    const lines: string[] = [];
    const cpu = await ModelRunner.create(folder, { log: (line) => lines.push(line) });
    await cpu.dispose();
    expect(cpu.executionProvider).toBe('cpu');
    expect(cpu.fallbackReason).toBeNull();
    expect(lines).toEqual(['onnxruntime: running on CPU (device cpu requested)']);
  });

  it.each([
    [
      'garbage bytes',
      () => Promise.resolve(new TextEncoder().encode('this is not a protobuf')),
      /Protobuf parsing failed/i,
    ],
    [
      'a graph with another contract',
      () => readFile(folder.graphs.embedTokens),
      /decoder_model_merged\.onnx: no 'inputs_embeds' input/,
    ],
  ])('names a decoder file holding %s', async (_name, content, message) => {
    const variant = await variantFolder(folder.dir, { 'onnx/decoder_model_merged.onnx': await content() });
    try {
      const broken = await loadModelFolder(variant.dir);
      const error = await ModelRunner.create(broken, { log: () => {} }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ModelLoadError);
      expect((error as ModelLoadError).file).toBe(broken.graphs.decoder);
      expect((error as Error).message).toMatch(message);
    } finally {
      await variant.remove();
    }
  });
});

describe('ModelRunner with external data', () => {
  it('loads graphs whose weights live in *.onnx_data next to them, with the same results', async () => {
    const changes: Record<string, Uint8Array> = {};
    for (const name of ['vision_encoder', 'embed_tokens', 'decoder_model_merged']) {
      const external = externalizeWeights(
        await readFile(`${folder.dir}/onnx/${name}.onnx`),
        `${name}.onnx_data`,
      );
      expect(external.data.length).toBeGreaterThan(10_000);
      changes[`onnx/${name}.onnx`] = external.graph;
      changes[`onnx/${name}.onnx_data`] = external.data;
    }
    const variant = await variantFolder(folder.dir, changes);
    try {
      const split = await ModelRunner.create(await loadModelFolder(variant.dir), { log: () => {} });
      try {
        const ids = [151644, 872, 198, 32, 33];
        const input = {
          ids,
          positionIds: mropePositions(ids, [], { imageTokenId: 151655, spatialMergeSize: 2 }).positionIds,
          images: [],
          start: 0,
          end: ids.length,
          logitsToKeep: 1,
        };
        const ours = await split.forward({ ...input, cache: split.emptyCache() });
        const original = await runner.forward({ ...input, cache: runner.emptyCache() });
        expect(maxAbsDiff(ours.logits, original.logits)).toBe(0);
        expect(
          maxAbsDiff(
            (await split.encodeImage(image)).data as Float32Array,
            (await runner.encodeImage(image)).data as Float32Array,
          ),
        ).toBe(0);
      } finally {
        await split.dispose();
      }
    } finally {
      await variant.remove();
    }
  });

  it('names the graph when its external data file is missing', async () => {
    const external = externalizeWeights(
      await readFile(folder.graphs.decoder),
      'decoder_model_merged.onnx_data',
    );
    const variant = await variantFolder(folder.dir, { 'onnx/decoder_model_merged.onnx': external.graph });
    try {
      const broken = await loadModelFolder(variant.dir);
      const error = await ModelRunner.create(broken, { log: () => {} }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ModelLoadError);
      expect((error as ModelLoadError).file).toBe(broken.graphs.decoder);
    } finally {
      await variant.remove();
    }
  });
});

describe('floatData', () => {
  const bits = Uint16Array.from([0x3e00, 0xc000, 0x3400]); // 1.5, -2, 0.25 in float16
  it.each<[string, ort.Tensor, Float32Array | Uint16Array]>([
    ['float32', new ort.Tensor('float32', Float32Array.from([1, 2]), [2]), Float32Array.from([1, 2])],
    ['float16 as Uint16Array (Node < 24)', new ort.Tensor('float16', bits, [3]), bits],
    // Node >= 24 has Float16Array, and onnxruntime-common returns float16 outputs as one: any other
    // 2-byte view of the same memory must come back as the same bits.
    [
      'float16 as another 2-byte array',
      { type: 'float16', data: new Int16Array(bits.buffer) } as unknown as ort.Tensor,
      bits,
    ],
  ])('reads %s tensor data', (_name, tensor, expected) => {
    const data = floatData(tensor);
    expect(data.constructor).toBe(expected.constructor);
    expect(Array.from(data)).toEqual(Array.from(expected));
  });

  it('refuses other data, naming it', () => {
    const tensor = { type: 'float32', data: new Float64Array(2) } as unknown as ort.Tensor;
    expect(() => floatData(tensor)).toThrow(
      'a float32 tensor holds Float64Array, not float32 or float16 data',
    );
  });
});
