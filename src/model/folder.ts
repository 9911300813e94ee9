import { access, readdir, readFile } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { z } from 'zod';
import { MODEL_DTYPES } from '../config/schema.js';
import { ModelFolderError } from './errors.js';

/** Weight format of an ONNX graph, as transformers.js and the `model.dtype` parameter name it. */
export type ModelDtype = (typeof MODEL_DTYPES)[number];

/** File-name suffix of each dtype (transformers.js `DEFAULT_DTYPE_SUFFIX_MAPPING`). */
export const DTYPE_SUFFIX: Readonly<Record<ModelDtype, string>> = {
  fp32: '',
  fp16: '_fp16',
  q8: '_quantized',
  int8: '_int8',
  uint8: '_uint8',
  q4: '_q4',
  bnb4: '_bnb4',
  q4f16: '_q4f16',
};

/** The three graphs of a model folder. */
export type GraphName = 'visionEncoder' | 'embedTokens' | 'decoder';

/** File name of each graph without suffix, also its key in `transformers.js_config.dtype`. */
export const GRAPH_FILE_NAMES: Readonly<Record<GraphName, string>> = {
  visionEncoder: 'vision_encoder',
  embedTokens: 'embed_tokens',
  decoder: 'decoder_model_merged',
};

function isModelDtype(value: unknown): value is ModelDtype {
  return typeof value === 'string' && (MODEL_DTYPES as readonly string[]).includes(value);
}

/** Sizes of the language model that the engine needs to drive the decoder graph. */
export interface ModelDimensions {
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly numAttentionHeads: number;
  readonly numKvHeads: number;
  readonly headDim: number;
  readonly vocabSize: number;
  /** Longest sequence the model was trained for (config `max_position_embeddings`), or null if unstated. */
  readonly maxPositionEmbeddings: number | null;
  /** Rotary frequencies per M-RoPE row (temporal, height, width), or null if unstated. */
  readonly mropeSection: readonly [number, number, number] | null;
  /** Side of the square of vision patches merged into one image token. */
  readonly spatialMergeSize: number;
}

/** Special token ids the prompt layout depends on (config.json). */
export interface ModelTokenIds {
  readonly imageTokenId: number;
  readonly videoTokenId: number | null;
  readonly visionStartTokenId: number;
  readonly visionEndTokenId: number | null;
}

/** The three ONNX graphs of a model folder, as absolute paths. */
export type ModelGraphPaths = Readonly<Record<GraphName, string>>;

/** Everything read from a model folder, validated; plain data (structured-cloneable). */
export interface ModelFolder {
  readonly dir: string;
  /** The dtype of each graph's file. */
  readonly dtypes: Readonly<Record<GraphName, ModelDtype>>;
  readonly graphs: ModelGraphPaths;
  readonly dims: ModelDimensions;
  readonly tokenIds: ModelTokenIds;
  /** Generation stop tokens: generation_config.json `eos_token_id`, else config.json's. */
  readonly eosTokenIds: readonly number[];
  /** Parsed tokenizer.json. */
  readonly tokenizerJson: Record<string, unknown>;
  /** Parsed tokenizer_config.json. */
  readonly tokenizerConfig: Record<string, unknown>;
  /** Jinja source of the chat template. */
  readonly chatTemplate: string;
  /** preprocessor_config.json, parsed (empty when the file is absent). */
  readonly preprocessorConfig: Record<string, unknown>;
}

/** Options for {@link loadModelFolder}. */
export interface LoadModelFolderOptions {
  /**
   * Which ONNX files to use: a dtype for every graph, or `auto` (the default): config.json
   * `transformers.js_config.dtype` (one dtype, or one per graph file name, with
   * `device_config[device].dtype` over it), else fp32. As transformers.js chooses.
   */
  readonly dtype?: ModelDtype | 'auto';
  /** The dtype of single graphs, over `dtype`. */
  readonly graphDtypes?: Partial<Record<GraphName, ModelDtype>>;
  /** The execution provider asked for, which picks `transformers.js_config.device_config`. */
  readonly device?: string;
}

const positiveInt = z.number().int().positive();
const tokenId = z.number().int().min(0);
const tokenIdList = z.union([tokenId, z.array(tokenId)]);
const mropeSection = z.tuple([positiveInt, positiveInt, positiveInt]);

const textConfigSchema = z.looseObject({
  hidden_size: positiveInt,
  num_hidden_layers: positiveInt,
  num_attention_heads: positiveInt,
  num_key_value_heads: positiveInt.optional(),
  head_dim: positiveInt.optional(),
  vocab_size: positiveInt,
  max_position_embeddings: positiveInt.optional(),
  rope_scaling: z.looseObject({ mrope_section: mropeSection.optional() }).nullish(),
  rope_parameters: z.looseObject({ mrope_section: mropeSection.optional() }).nullish(),
  eos_token_id: tokenIdList.optional(),
});

const configDtypeSchema = z.union([z.string(), z.record(z.string(), z.string())]);

const configSchema = z.looseObject({
  'transformers.js_config': z
    .looseObject({
      dtype: configDtypeSchema.optional(),
      device_config: z.record(z.string(), z.looseObject({ dtype: configDtypeSchema.optional() })).optional(),
    })
    .optional(),
  text_config: z.looseObject({}).optional(),
  vision_config: z.looseObject({ spatial_merge_size: positiveInt.default(2) }).prefault({}),
  image_token_id: tokenId,
  video_token_id: tokenId.optional(),
  vision_start_token_id: tokenId,
  vision_end_token_id: tokenId.optional(),
  eos_token_id: tokenIdList.optional(),
});

const generationConfigSchema = z.looseObject({ eos_token_id: tokenIdList.optional() });

const chatTemplateJsonSchema = z.looseObject({ chat_template: z.string().min(1) });

const tokenizerConfigSchema = z.looseObject({
  chat_template: z
    .union([z.string(), z.array(z.looseObject({ name: z.string(), template: z.string() }))])
    .optional(),
});

const tokenizerJsonSchema = z.looseObject({
  model: z.looseObject({ type: z.string().optional() }),
  added_tokens: z.array(z.looseObject({ id: tokenId, content: z.string() })).optional(),
});

function describeIssues(issues: readonly z.core.$ZodIssue[], prefix = ''): string {
  return issues
    .map((issue) => {
      const key = [prefix, ...issue.path.map(String)].filter(Boolean).join('.') || '(root)';
      return `'${key}': ${issue.message}`;
    })
    .join('; ');
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

async function readJson(file: string, required: true): Promise<unknown>;
async function readJson(file: string, required: false): Promise<unknown | undefined>;
async function readJson(file: string, required: boolean): Promise<unknown | undefined> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      if (!required) return undefined;
      throw new ModelFolderError(file, `model folder: missing file ${file}`, { cause: error });
    }
    throw new ModelFolderError(file, `model folder: cannot read ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw new ModelFolderError(file, `model folder: ${file} is not valid JSON: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function parseWith<T extends z.ZodType>(schema: T, value: unknown, file: string, prefix = ''): z.infer<T> {
  const result = schema.safeParse(value);
  if (!result.success) {
    throw new ModelFolderError(file, `model folder: ${file}: ${describeIssues(result.error.issues, prefix)}`);
  }
  return result.data;
}

function asList(ids: number | number[] | undefined): number[] {
  if (ids === undefined) return [];
  return Array.isArray(ids) ? ids : [ids];
}

const GRAPH_NAMES = Object.keys(GRAPH_FILE_NAMES) as GraphName[];

/** A graph's dtype and where it came from, for error messages. */
interface ChosenDtype {
  readonly dtype: ModelDtype;
  readonly source: string;
}

/** Each graph's dtype: its own option, else `dtype`, else (auto) config.json's, else fp32. */
function chooseDtypes(
  jsConfig: z.infer<typeof configSchema>['transformers.js_config'],
  options: LoadModelFolderOptions,
  configFile: string,
): Record<GraphName, ChosenDtype> {
  const deviceDtype = options.device ? jsConfig?.device_config?.[options.device]?.dtype : undefined;
  const configDtype = deviceDtype ?? jsConfig?.dtype;
  const configField =
    deviceDtype === undefined
      ? 'transformers.js_config.dtype'
      : `transformers.js_config.device_config.${options.device}.dtype`;
  const choose = (graph: GraphName): ChosenDtype => {
    const fileName = GRAPH_FILE_NAMES[graph];
    const own = options.graphDtypes?.[graph];
    if (own) return { dtype: own, source: `asked for ${fileName}` };
    if (options.dtype && options.dtype !== 'auto') {
      return { dtype: options.dtype, source: 'asked for every graph' };
    }
    const field = typeof configDtype === 'string' ? configField : `${configField}.${fileName}`;
    const value = typeof configDtype === 'string' ? configDtype : configDtype?.[fileName];
    if (value === undefined || value === 'auto') return { dtype: 'fp32', source: 'the default' };
    if (!isModelDtype(value)) {
      throw new ModelFolderError(
        configFile,
        `model folder: ${configFile}: '${field}' is '${value}', not one of ${MODEL_DTYPES.join(', ')}; set the dtype option to choose the files`,
      );
    }
    return { dtype: value, source: `from config.json ${field}` };
  };
  return {
    visionEncoder: choose('visionEncoder'),
    embedTokens: choose('embedTokens'),
    decoder: choose('decoder'),
  };
}

/** The dtypes of the files `onnx/{fileName}{suffix}.onnx` that exist, in DTYPE_SUFFIX order. */
async function presentDtypes(onnxDir: string, fileName: string): Promise<ModelDtype[]> {
  const names = new Set(await readdir(onnxDir).catch(() => []));
  return MODEL_DTYPES.filter((dtype) => names.has(`${fileName}${DTYPE_SUFFIX[dtype]}.onnx`));
}

async function findChatTemplate(dir: string, tokenizerConfig: z.infer<typeof tokenizerConfigSchema>) {
  const jsonFile = join(dir, 'chat_template.json');
  const json = await readJson(jsonFile, false);
  if (json !== undefined) return parseWith(chatTemplateJsonSchema, json, jsonFile).chat_template;
  const jinjaFile = join(dir, 'chat_template.jinja');
  if (await exists(jinjaFile)) return readFile(jinjaFile, 'utf8');
  const fromConfig = tokenizerConfig.chat_template;
  if (typeof fromConfig === 'string' && fromConfig.length > 0) return fromConfig;
  if (Array.isArray(fromConfig)) {
    const named = fromConfig.find((t) => t.name === 'default') ?? fromConfig[0];
    if (named) return named.template;
  }
  throw new ModelFolderError(
    jsonFile,
    `model folder: no chat template in ${dir} (looked for chat_template.json, chat_template.jinja and tokenizer_config.json 'chat_template')`,
  );
}

/** Each graph's file and dtype, e.g. `onnx/decoder_model_merged_q4f16.onnx (q4f16)`, comma-separated. */
export function describeGraphFiles(folder: ModelFolder): string {
  return GRAPH_NAMES.map(
    (graph) => `${relative(folder.dir, folder.graphs[graph])} (${folder.dtypes[graph]})`,
  ).join(', ');
}

/**
 * Reads and validates a model folder in the transformers.js v4 layout (DESIGN.md section 4).
 * Throws {@link ModelFolderError} naming the first missing file or invalid field.
 */
export async function loadModelFolder(
  dir: string,
  options: LoadModelFolderOptions = {},
): Promise<ModelFolder> {
  const root = resolve(dir);
  if (!(await exists(root))) throw new ModelFolderError(root, `model folder ${root} does not exist`);

  const configFile = join(root, 'config.json');
  const rawConfig = await readJson(configFile, true);
  const config = parseWith(configSchema, rawConfig, configFile);
  const text = parseWith(
    textConfigSchema,
    config.text_config ?? rawConfig,
    configFile,
    config.text_config ? 'text_config' : '',
  );
  if (text.hidden_size % text.num_attention_heads !== 0 && text.head_dim === undefined) {
    throw new ModelFolderError(
      configFile,
      `model folder: ${configFile}: hidden_size ${text.hidden_size} is not a multiple of num_attention_heads ${text.num_attention_heads} and head_dim is not given`,
    );
  }

  const generationFile = join(root, 'generation_config.json');
  const rawGeneration = await readJson(generationFile, false);
  const generation =
    rawGeneration === undefined ? {} : parseWith(generationConfigSchema, rawGeneration, generationFile);
  const eosTokenIds = [
    ...new Set(
      asList(generation.eos_token_id).length > 0
        ? asList(generation.eos_token_id)
        : [...asList(config.eos_token_id), ...asList(text.eos_token_id)],
    ),
  ];

  const tokenizerFile = join(root, 'tokenizer.json');
  const tokenizerJson = parseWith(tokenizerJsonSchema, await readJson(tokenizerFile, true), tokenizerFile);
  const tokenizerConfigFile = join(root, 'tokenizer_config.json');
  const tokenizerConfig = parseWith(
    tokenizerConfigSchema,
    await readJson(tokenizerConfigFile, true),
    tokenizerConfigFile,
  );
  const chatTemplate = await findChatTemplate(root, tokenizerConfig);

  const preprocessorFile = join(root, 'preprocessor_config.json');
  const preprocessorConfig = (await readJson(preprocessorFile, false)) ?? {};
  if (
    typeof preprocessorConfig !== 'object' ||
    preprocessorConfig === null ||
    Array.isArray(preprocessorConfig)
  ) {
    throw new ModelFolderError(preprocessorFile, `model folder: ${preprocessorFile} is not a JSON object`);
  }

  const chosen = chooseDtypes(config['transformers.js_config'], options, configFile);
  const graphs = {} as Record<GraphName, string>;
  for (const graph of GRAPH_NAMES) {
    const { dtype, source } = chosen[graph];
    const file = join(root, 'onnx', `${GRAPH_FILE_NAMES[graph]}${DTYPE_SUFFIX[dtype]}.onnx`);
    if (!(await exists(file))) {
      const present = await presentDtypes(join(root, 'onnx'), GRAPH_FILE_NAMES[graph]);
      throw new ModelFolderError(
        file,
        `model folder: missing ONNX graph ${file} (dtype ${dtype}, ${source}); ` +
          (present.length > 0
            ? `${GRAPH_FILE_NAMES[graph]} is there as ${present.join(', ')}`
            : `no ${GRAPH_FILE_NAMES[graph]} graph of any dtype is there`),
      );
    }
    graphs[graph] = file;
  }

  const mrope = text.rope_scaling?.mrope_section ?? text.rope_parameters?.mrope_section ?? null;
  return {
    dir: root,
    dtypes: {
      visionEncoder: chosen.visionEncoder.dtype,
      embedTokens: chosen.embedTokens.dtype,
      decoder: chosen.decoder.dtype,
    },
    graphs,
    dims: {
      hiddenSize: text.hidden_size,
      numLayers: text.num_hidden_layers,
      numAttentionHeads: text.num_attention_heads,
      numKvHeads: text.num_key_value_heads ?? text.num_attention_heads,
      headDim: text.head_dim ?? text.hidden_size / text.num_attention_heads,
      vocabSize: text.vocab_size,
      maxPositionEmbeddings: text.max_position_embeddings ?? null,
      mropeSection: mrope,
      spatialMergeSize: config.vision_config.spatial_merge_size,
    },
    tokenIds: {
      imageTokenId: config.image_token_id,
      videoTokenId: config.video_token_id ?? null,
      visionStartTokenId: config.vision_start_token_id,
      visionEndTokenId: config.vision_end_token_id ?? null,
    },
    eosTokenIds,
    tokenizerJson,
    tokenizerConfig,
    chatTemplate,
    preprocessorConfig: preprocessorConfig as Record<string, unknown>,
  };
}
