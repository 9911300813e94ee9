import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { MODEL_DTYPES, modelSchema } from '../config/schema.js';
import { decodeImageBytes } from '../image/compressed.js';
import { ImageDecodeError } from '../image/errors.js';
import { preprocess } from '../image/preprocess.js';
import { bundledModelDir } from '../model/bundled.js';
import { Engine, type EngineImage } from '../model/engine.js';
import { ModelError } from '../model/errors.js';
import { setGraphDtypes } from '../model/engine-options.js';
import type { ModelDtype } from '../model/folder.js';
import { CliError, log } from './output.js';

/** The options {@link addModelOptions} adds, as commander gives them. */
export interface ModelCliOptions {
  model?: string;
  device: 'cpu' | 'cuda';
  deviceId: string;
  dtype: ModelDtype | 'auto';
  visionDtype?: ModelDtype;
  embedDtype?: ModelDtype;
  decoderDtype?: ModelDtype;
  maxPixels: string;
  minPixels: string;
}

const modelDefaults = modelSchema.parse({});

/** Parses a numeric flag, or fails with exit code 2 naming the flag and the value. */
export function numberOption(flag: string, value: string, { integer = false, min = -Infinity } = {}): number {
  const parsed = Number(value);
  if (
    value.trim() === '' ||
    !Number.isFinite(parsed) ||
    (integer && !Number.isInteger(parsed)) ||
    parsed < min
  ) {
    const kind = integer ? 'an integer' : 'a number';
    throw new CliError(`${flag}: '${value}' is not ${kind}${min > -Infinity ? ` >= ${min}` : ''}`, 2);
  }
  return parsed;
}

/** Adds --model, --device, --device-id, --dtype (and one per graph), --max-pixels and --min-pixels. */
export function addModelOptions(command: Command): Command {
  return command
    .option('--model <dir>', 'ONNX model folder (transformers.js layout); default: the bundled model')
    .addOption(new Option('--device <device>', 'execution provider').choices(['cpu', 'cuda']).default('cpu'))
    .option('--device-id <n>', 'CUDA device', '0')
    .addOption(
      new Option(
        '--dtype <dtype>',
        "which ONNX files; auto: config.json's transformers.js_config.dtype, else fp32",
      )
        .choices(['auto', ...MODEL_DTYPES])
        .default('auto'),
    )
    .addOption(new Option('--vision-dtype <dtype>', 'the vision encoder file alone').choices(MODEL_DTYPES))
    .addOption(new Option('--embed-dtype <dtype>', 'the token embedding file alone').choices(MODEL_DTYPES))
    .addOption(new Option('--decoder-dtype <dtype>', 'the decoder file alone').choices(MODEL_DTYPES))
    .option('--max-pixels <n>', 'largest model input per image, pixels', String(modelDefaults.max_pixels))
    .option('--min-pixels <n>', 'smallest model input per image, pixels', String(modelDefaults.min_pixels));
}

/** The model folder a command uses: `--model`, else the bundled model (which must exist). */
export function modelDirOf(opts: Pick<ModelCliOptions, 'model'>): string {
  if (opts.model !== undefined) return opts.model;
  const bundled = bundledModelDir();
  if (!existsSync(bundled)) {
    throw new CliError(`no --model given and the bundled model is missing at ${bundled}`, 2);
  }
  return bundled;
}

/** Pixel limits of the model input per image. */
export function pixelLimits(opts: Pick<ModelCliOptions, 'maxPixels' | 'minPixels'>): {
  maxPixels: number;
  minPixels: number;
} {
  return {
    maxPixels: numberOption('--max-pixels', opts.maxPixels, { integer: true, min: 784 }),
    minPixels: numberOption('--min-pixels', opts.minPixels, { integer: true, min: 784 }),
  };
}

/** Reads, decodes and preprocesses one image file; bad files fail with exit code 2. */
export async function loadImage(
  path: string,
  limits: { maxPixels: number; minPixels: number },
): Promise<EngineImage> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new CliError(`--image ${path}: ${(error as Error).message}`, 2);
  }
  try {
    return { image: await preprocess(await decodeImageBytes(bytes), limits), key: resolve(path) };
  } catch (error) {
    if (error instanceof ImageDecodeError) throw new CliError(`--image ${path}: ${error.message}`, 2);
    throw error;
  }
}

/**
 * Reads several image files at once (see {@link loadImage}); when some are bad, fails naming the
 * first bad one in the order given, whichever finished first.
 */
export async function loadImages(
  paths: readonly string[],
  limits: { maxPixels: number; minPixels: number },
): Promise<EngineImage[]> {
  const settled = await Promise.allSettled(paths.map((path) => loadImage(path, limits)));
  return settled.map((result) => {
    if (result.status === 'rejected') throw result.reason;
    return result.value;
  });
}

/** Opens the engine the options name; model errors become exit code 2. */
export async function openEngine(opts: ModelCliOptions): Promise<Engine> {
  const deviceId = numberOption('--device-id', opts.deviceId, { integer: true, min: 0 });
  return Engine.create({
    modelDir: modelDirOf(opts),
    dtype: opts.dtype,
    graphDtypes: setGraphDtypes({
      visionEncoder: opts.visionDtype,
      embedTokens: opts.embedDtype,
      decoder: opts.decoderDtype,
    }),
    device: opts.device,
    deviceId,
    log,
  }).catch((error: unknown) => {
    throw error instanceof ModelError ? new CliError(error.message, 2) : error;
  });
}
