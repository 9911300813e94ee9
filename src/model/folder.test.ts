import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { tinyModelDir } from '../../test/helpers/tiny-model.js';
import { ModelFolderError } from './errors.js';
import {
  DTYPE_SUFFIX,
  GRAPH_FILE_NAMES,
  loadModelFolder,
  type LoadModelFolderOptions,
  type ModelDtype,
} from './folder.js';
import { readFolderJson, variantFolder, type FolderChanges } from './test-folders.js';

let tiny: string;
beforeAll(async () => {
  tiny = await tinyModelDir();
});

/** Loads a variant of the tiny folder and returns the error it throws. */
async function loadError(changes: (dir: string) => Promise<FolderChanges>): Promise<ModelFolderError> {
  const variant = await variantFolder(tiny, await changes(tiny));
  try {
    await loadModelFolder(variant.dir);
  } catch (error) {
    expect(error).toBeInstanceOf(ModelFolderError);
    return error as ModelFolderError;
  } finally {
    await variant.remove();
  }
  throw new Error('the folder loaded');
}

describe('loadModelFolder', () => {
  it('reads dimensions, token ids, stop tokens and graph paths from the tiny model', async () => {
    const folder = await loadModelFolder(tiny);
    expect(folder.dims).toEqual({
      hiddenSize: 16,
      numLayers: 2,
      numAttentionHeads: 4,
      numKvHeads: 2,
      headDim: 16,
      vocabSize: 151936,
      maxPositionEmbeddings: 32768,
      mropeSection: [2, 3, 3],
      spatialMergeSize: 2,
    });
    expect(folder.tokenIds).toEqual({
      imageTokenId: 151655,
      videoTokenId: 151656,
      visionStartTokenId: 151652,
      visionEndTokenId: 151653,
    });
    expect(folder.eosTokenIds).toEqual([151645, 151643]);
    expect(folder.graphs.decoder).toBe(join(tiny, 'onnx', 'decoder_model_merged.onnx'));
    expect(folder.chatTemplate).toContain('<|vision_start|><|image_pad|><|vision_end|>');
    expect(structuredClone(folder)).toEqual(folder);
  });

  it('derives head_dim from hidden_size / heads and reads text fields at the top level (older configs)', async () => {
    const variant = await variantFolder(tiny, {
      'config.json': JSON.stringify(
        await readFolderJson(tiny, 'config.json').then(({ text_config: text, ...rest }) => {
          const { head_dim: _dropped, ...withoutHeadDim } = text as Record<string, unknown>;
          return { ...rest, ...withoutHeadDim, hidden_size: 64 };
        }),
      ),
    });
    try {
      const folder = await loadModelFolder(variant.dir);
      expect(folder.dims.hiddenSize).toBe(64);
      expect(folder.dims.headDim).toBe(16);
    } finally {
      await variant.remove();
    }
  });

  it('falls back to config.json eos ids without generation_config.json', async () => {
    const variant = await variantFolder(tiny, { 'generation_config.json': null });
    try {
      expect((await loadModelFolder(variant.dir)).eosTokenIds).toEqual([151645]);
    } finally {
      await variant.remove();
    }
  });

  it('takes the chat template from tokenizer_config.json when chat_template.json is absent', async () => {
    const variant = await variantFolder(tiny, { 'chat_template.json': null });
    try {
      expect((await loadModelFolder(variant.dir)).chatTemplate).toContain('<|image_pad|>');
    } finally {
      await variant.remove();
    }
  });

  it.each([
    ['config.json', /missing file .*config\.json/],
    ['tokenizer.json', /missing file .*tokenizer\.json/],
    ['tokenizer_config.json', /missing file .*tokenizer_config\.json/],
    [
      'onnx/decoder_model_merged.onnx',
      /missing ONNX graph .*decoder_model_merged\.onnx \(dtype fp32, from config\.json transformers\.js_config\.dtype\); no decoder_model_merged graph of any dtype is there/,
    ],
    ['onnx/vision_encoder.onnx', /missing ONNX graph .*vision_encoder\.onnx/],
    ['onnx/embed_tokens.onnx', /missing ONNX graph .*embed_tokens\.onnx/],
  ])('names a missing %s', async (file, message) => {
    const error = await loadError(async () => ({ [file]: null }));
    expect(error.message).toMatch(message);
    expect(error.file.endsWith(file)).toBe(true);
  });

  it('names the missing graph of another dtype, and the dtypes that are there', async () => {
    await expect(loadModelFolder(tiny, { dtype: 'q4' })).rejects.toThrow(
      `vision_encoder${DTYPE_SUFFIX.q4}.onnx (dtype q4, asked for every graph); vision_encoder is there as fp32`,
    );
  });

  it('names a folder without any chat template', async () => {
    const error = await loadError(async (dir) => {
      const { chat_template: _dropped, ...config } = await readFolderJson(dir, 'tokenizer_config.json');
      return { 'chat_template.json': null, 'tokenizer_config.json': JSON.stringify(config) };
    });
    expect(error.message).toMatch(/no chat template/);
  });

  it.each([
    [
      'a missing layer count',
      async (dir: string) => {
        const config = await readFolderJson(dir, 'config.json');
        const { num_hidden_layers: _dropped, ...text } = config.text_config as Record<string, unknown>;
        return { 'config.json': JSON.stringify({ ...config, text_config: text }) };
      },
      /'text_config\.num_hidden_layers'/,
    ],
    [
      'a missing image_token_id',
      async (dir: string) => {
        const { image_token_id: _dropped, ...config } = await readFolderJson(dir, 'config.json');
        return { 'config.json': JSON.stringify(config) };
      },
      /'image_token_id'/,
    ],
    [
      'a string where a number belongs',
      async (dir: string) => {
        const config = await readFolderJson(dir, 'config.json');
        return {
          'config.json': JSON.stringify({ ...config, vision_config: { spatial_merge_size: 'two' } }),
        };
      },
      /'vision_config\.spatial_merge_size'/,
    ],
    [
      'config.json that is not JSON',
      async () => ({ 'config.json': '{ nope' }),
      /config\.json is not valid JSON/,
    ],
    [
      'a bad eos_token_id in generation_config.json',
      async () => ({ 'generation_config.json': JSON.stringify({ eos_token_id: 'x' }) }),
      /generation_config\.json: 'eos_token_id'/,
    ],
  ])('names %s', async (_name, changes, message) => {
    const error = await loadError(changes);
    expect(error.message).toMatch(message);
  });

  it('names a folder that does not exist', async () => {
    await expect(loadModelFolder('/no/such/model')).rejects.toThrow(
      /model folder \/no\/such\/model does not exist/,
    );
  });
});

describe('loadModelFolder dtype choice (as transformers.js chooses)', () => {
  /** The tiny folder with more graph files (links to the fp32 ones) and `transformers.js_config`. */
  async function withDtypes(jsConfig: unknown): Promise<{ dir: string; remove: () => Promise<void> }> {
    const config = await readFolderJson(tiny, 'config.json');
    const { 'transformers.js_config': _dropped, ...rest } = config;
    const graph = (name: string) => readFile(join(tiny, 'onnx', `${name}.onnx`));
    return variantFolder(tiny, {
      'config.json': JSON.stringify(
        jsConfig === undefined ? rest : { ...rest, 'transformers.js_config': jsConfig },
      ),
      'onnx/vision_encoder_fp16.onnx': await graph('vision_encoder'),
      'onnx/embed_tokens_fp16.onnx': await graph('embed_tokens'),
      'onnx/embed_tokens_q4f16.onnx': await graph('embed_tokens'),
      'onnx/decoder_model_merged_q4f16.onnx': await graph('decoder_model_merged'),
      'onnx/decoder_model_merged_int8.onnx': await graph('decoder_model_merged'),
    });
  }

  const perFile = { vision_encoder: 'fp16', embed_tokens: 'q4f16', decoder_model_merged: 'q4f16' };
  it.each<[string, unknown, LoadModelFolderOptions, [ModelDtype, ModelDtype, ModelDtype]]>([
    ['no transformers.js_config: fp32', undefined, {}, ['fp32', 'fp32', 'fp32']],
    ["config.json's one dtype", { dtype: 'fp32' }, {}, ['fp32', 'fp32', 'fp32']],
    ["config.json's dtype per file", { dtype: perFile }, {}, ['fp16', 'q4f16', 'q4f16']],
    [
      'a file config.json leaves out: fp32',
      { dtype: { decoder_model_merged: 'int8' } },
      { dtype: 'auto' },
      ['fp32', 'fp32', 'int8'],
    ],
    ["config.json's auto: fp32", { dtype: 'auto' }, {}, ['fp32', 'fp32', 'fp32']],
    ['the dtype option over config.json', { dtype: perFile }, { dtype: 'fp32' }, ['fp32', 'fp32', 'fp32']],
    [
      'one graph option over config.json',
      { dtype: perFile },
      { graphDtypes: { decoder: 'int8' } },
      ['fp16', 'q4f16', 'int8'],
    ],
    [
      'one graph option over the dtype option',
      {},
      { dtype: 'fp16', graphDtypes: { decoder: 'q4f16' } },
      ['fp16', 'fp16', 'q4f16'],
    ],
    [
      "config.json's device_config for the device asked for",
      { dtype: 'fp32', device_config: { cuda: { dtype: perFile } } },
      { device: 'cuda' },
      ['fp16', 'q4f16', 'q4f16'],
    ],
    [
      "another device's device_config is ignored",
      { dtype: 'fp32', device_config: { cuda: { dtype: perFile } } },
      { device: 'cpu' },
      ['fp32', 'fp32', 'fp32'],
    ],
  ])('%s', async (_name, jsConfig, options, [vision, embed, decoder]) => {
    const variant = await withDtypes(jsConfig);
    try {
      const folder = await loadModelFolder(variant.dir, options);
      expect(folder.dtypes).toEqual({ visionEncoder: vision, embedTokens: embed, decoder });
      for (const [graph, dtype] of [
        ['visionEncoder', vision],
        ['embedTokens', embed],
        ['decoder', decoder],
      ] as const) {
        expect(folder.graphs[graph]).toBe(
          join(variant.dir, 'onnx', `${GRAPH_FILE_NAMES[graph]}${DTYPE_SUFFIX[dtype]}.onnx`),
        );
      }
    } finally {
      await variant.remove();
    }
  });

  it.each<[string, unknown, LoadModelFolderOptions, string]>([
    [
      'a dtype config.json names that the engine does not know',
      { dtype: { decoder_model_merged: 'q2' } },
      {},
      "'transformers.js_config.dtype.decoder_model_merged' is 'q2', not one of fp32, fp16, q8, int8, uint8, q4, bnb4, q4f16",
    ],
    [
      'a dtype config.json names whose file is not there',
      { dtype: 'fp16' },
      {},
      'decoder_model_merged_fp16.onnx (dtype fp16, from config.json transformers.js_config.dtype); decoder_model_merged is there as fp32, int8, q4f16',
    ],
    [
      'a graph option whose file is not there',
      {},
      { graphDtypes: { visionEncoder: 'bnb4' } },
      'vision_encoder_bnb4.onnx (dtype bnb4, asked for vision_encoder); vision_encoder is there as fp32, fp16',
    ],
  ])('names %s', async (_name, jsConfig, options, message) => {
    const variant = await withDtypes(jsConfig);
    try {
      const error = await loadModelFolder(variant.dir, options).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ModelFolderError);
      expect((error as Error).message).toContain(message);
    } finally {
      await variant.remove();
    }
  });

  it('ignores a dtype config.json names when the dtype option is given', async () => {
    const variant = await withDtypes({ dtype: 'q2' });
    try {
      expect((await loadModelFolder(variant.dir, { dtype: 'fp32' })).dtypes.decoder).toBe('fp32');
    } finally {
      await variant.remove();
    }
  });
});
