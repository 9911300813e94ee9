import { copyFile, cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { TinyModelFormatError, readTinyWeights } from './read.js';
import type { TinyModelWeights, Weight } from './weights.js';
import { TinyModelSeedError, generateTinyWeights } from './weights.js';
import type { TinyModelFolder } from './write.js';
import { qwenTokenizerJsonPath, writeTinyModel } from './write.js';

const ONNX = ['onnx/decoder_model_merged.onnx', 'onnx/embed_tokens.onnx', 'onnx/vision_encoder.onnx'];
const FILES = [
  'chat_template.json',
  'config.json',
  'generation_config.json',
  'preprocessor_config.json',
  'tokenizer.json',
  'tokenizer_config.json',
  ...ONNX,
].sort();

let root: string;
let seed1: TinyModelFolder;
let seed1Again: TinyModelFolder;
let seed2: TinyModelFolder;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'actial-tiny-write-'));
  seed1 = await writeTinyModel({ outDir: join(root, 'a'), seed: 1 });
  seed1Again = await writeTinyModel({ outDir: join(root, 'b'), seed: 1 });
  seed2 = await writeTinyModel({ outDir: join(root, 'c'), seed: 2 });
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

const read = (folder: TinyModelFolder, path: string): Promise<Buffer> => readFile(join(folder.dir, path));
const readJson = async (folder: TinyModelFolder, path: string): Promise<Record<string, unknown>> =>
  JSON.parse((await read(folder, path)).toString('utf8')) as Record<string, unknown>;

function flatten(weights: TinyModelWeights): Weight[] {
  return [
    ...Object.values(weights.vision),
    weights.embedTokens,
    ...weights.layers.flatMap((layer) => Object.values(layer)),
    weights.norm,
    weights.lmHead,
  ];
}

const bytes = (w: Weight): Buffer => Buffer.from(w.data.buffer, w.data.byteOffset, w.data.byteLength);

async function listFiles(dir: string, prefix = ''): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true });
  const nested = await Promise.all(
    entries.map((e) =>
      e.isDirectory() ? listFiles(join(dir, e.name), `${prefix}${e.name}/`) : [`${prefix}${e.name}`],
    ),
  );
  return nested.flat().sort();
}

describe('writeTinyModel', () => {
  it('writes exactly the transformers.js folder layout and reports every file', async () => {
    expect(await listFiles(seed1.dir)).toEqual(FILES);
    expect(seed1.files.map((f) => f.path).sort()).toEqual(FILES);
    for (const file of seed1.files) expect((await read(seed1, file.path)).byteLength).toBe(file.bytes);
    expect(seed1.totalBytes).toBe(seed1.files.reduce((sum, f) => sum + f.bytes, 0));
  });

  it.each(FILES)('same seed gives byte-identical %s', async (path) => {
    expect((await read(seed1, path)).equals(await read(seed1Again, path))).toBe(true);
  });

  it.each(ONNX)('a different seed gives a different %s of the same size', async (path) => {
    const [a, b] = [await read(seed1, path), await read(seed2, path)];
    expect(a.equals(b)).toBe(false);
    expect(a.byteLength).toBe(b.byteLength);
  });

  it('the ONNX files hold exactly the generated weights', async () => {
    const stored = flatten(await readTinyWeights(seed2.dir));
    const generated = flatten(generateTinyWeights(2));
    expect(stored.map((w) => [w.name, w.dims])).toEqual(generated.map((w) => [w.name, w.dims]));
    stored.forEach((w, i) => expect(bytes(w).equals(bytes(generated[i] as Weight))).toBe(true));
    const other = flatten(generateTinyWeights(1));
    stored.forEach((w, i) => expect(bytes(w).equals(bytes(other[i] as Weight))).toBe(false));
  });

  it('copies the real Qwen2.5 tokenizer.json', async () => {
    expect((await read(seed1, 'tokenizer.json')).equals(await readFile(qwenTokenizerJsonPath()))).toBe(true);
  });

  it.each([
    ['model_type', 'qwen2_5_vl'],
    ['architectures', ['Qwen2_5_VLForConditionalGeneration']],
    ['image_token_id', 151655],
    ['video_token_id', 151656],
    ['vision_start_token_id', 151652],
    ['vision_end_token_id', 151653],
    ['eos_token_id', 151645],
    ['text_config.model_type', 'qwen2_5_vl_text'],
    ['text_config.hidden_size', 16],
    ['text_config.num_hidden_layers', 2],
    ['text_config.num_attention_heads', 4],
    ['text_config.num_key_value_heads', 2],
    ['text_config.head_dim', 16],
    ['text_config.vocab_size', 151936],
    ['text_config.rope_scaling', { type: 'mrope', rope_type: 'default', mrope_section: [2, 3, 3] }],
    ['vision_config.spatial_merge_size', 2],
    ['vision_config.patch_size', 14],
    ['vision_config.temporal_patch_size', 2],
    ['vision_config.out_hidden_size', 16],
    ['actial_tiny_model', { seed: 1, version: 2, attention: 'fused' }],
  ])('config.json %s', async (path, expected) => {
    const config = await readJson(seed1, 'config.json');
    const value = path
      .split('.')
      .reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], config);
    expect(value).toEqual(expected);
  });

  it('generation and preprocessor configs spell out what transformers.js does not default', async () => {
    expect(await readJson(seed1, 'generation_config.json')).toEqual({
      bos_token_id: 151643,
      eos_token_id: [151645, 151643],
      pad_token_id: 151643,
      do_sample: false,
    });
    expect(await readJson(seed1, 'preprocessor_config.json')).toMatchObject({
      processor_class: 'Qwen2_5_VLProcessor',
      image_processor_type: 'Qwen2VLImageProcessor',
      do_resize: true,
      size: { shortest_edge: 3136, longest_edge: 12845056 },
      min_pixels: 3136,
      max_pixels: 12845056,
      resample: 3,
      do_rescale: true,
      rescale_factor: 1 / 255,
      do_normalize: true,
      image_mean: [0.48145466, 0.4578275, 0.40821073],
      image_std: [0.26862954, 0.26130258, 0.27577711],
      patch_size: 14,
      temporal_patch_size: 2,
      merge_size: 2,
    });
  });

  it('tokenizer_config.json and chat_template.json carry the same Qwen2.5-VL template', async () => {
    const tokenizerConfig = await readJson(seed1, 'tokenizer_config.json');
    const { chat_template } = await readJson(seed1, 'chat_template.json');
    expect(tokenizerConfig).toMatchObject({
      eos_token: '<|im_end|>',
      pad_token: '<|endoftext|>',
      tokenizer_class: 'Qwen2Tokenizer',
      model_max_length: 131072,
    });
    expect(tokenizerConfig.chat_template).toBe(chat_template);
    const template = new Template(chat_template as string);
    expect(
      template.render({
        messages: [
          { role: 'system', content: 'Be brief.' },
          { role: 'user', content: [{ type: 'image' }, { type: 'text', text: 'What is it?' }] },
          { role: 'assistant', content: 'A cup.' },
        ],
        add_generation_prompt: false,
      }),
    ).toBe(
      '<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\n<|vision_start|><|image_pad|><|vision_end|>' +
        'What is it?<|im_end|>\n<|im_start|>assistant\nA cup.<|im_end|>\n',
    );
  });

  it.each([-1, 1.5, 2 ** 32, Number.NaN])('rejects seed %p with a typed error naming it', async (seed) => {
    await expect(writeTinyModel({ outDir: join(root, 'bad'), seed })).rejects.toThrow(TinyModelSeedError);
    await expect(writeTinyModel({ outDir: join(root, 'bad'), seed })).rejects.toThrow(String(seed));
  });
});

describe('readTinyWeights', () => {
  it('names the folder and the weight a graph lacks', async () => {
    const dir = join(root, 'broken');
    await cp(seed1.dir, dir, { recursive: true });
    await copyFile(join(dir, 'onnx/embed_tokens.onnx'), join(dir, 'onnx/vision_encoder.onnx'));
    const error = readTinyWeights(dir);
    await expect(error).rejects.toThrow(TinyModelFormatError);
    await expect(readTinyWeights(dir)).rejects.toThrow(
      /broken: no initializer named visual\.patch_embed\.proj\.weight/,
    );
  });

  it('rejects a file that is not an ONNX model', async () => {
    const dir = join(root, 'garbage');
    await cp(seed1.dir, dir, { recursive: true });
    await writeFile(join(dir, 'onnx/decoder_model_merged.onnx'), Buffer.from([0xff, 0xff, 0xff, 0xff]));
    await expect(readTinyWeights(dir)).rejects.toThrow(TinyModelFormatError);
    await expect(readTinyWeights(dir)).rejects.toThrow(
      /garbage\/onnx\/decoder_model_merged\.onnx: not a readable ONNX model/,
    );
  });

  it('names a missing graph file', async () => {
    await expect(readTinyWeights(join(root, 'nowhere'))).rejects.toThrow(/nowhere\/onnx\/\w+\.onnx: missing/);
  });
});
