import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { OTHER_TOKEN_LOGIT } from '../tiny/weights.js';
import { writeModelFolder, type WrittenFile } from '../tiny/write.js';
import { readTrainedWeights, TrainedWeightsError } from './weights-file.js';

/** Bumped when the folder written from the same weights changes. */
export const TRAINED_MODEL_VERSION = 1;

/** The image size the viewpoint model was trained on; its preprocessor keeps images at most this many pixels. */
export const TRAINED_IMAGE_PIXELS = 224 * 224;

/** Provenance file in the folder: the weights manifest without the tensor table. */
export const TRAINING_FILE = 'training.json';

/** Outputs for a fixed input computed by PyTorch at export, to check the ONNX graphs against. */
export const REFERENCE_FILE = 'reference.json';

export interface WriteTrainedModelOptions {
  /** Folder with weights.bin, weights.json and reference.json from `train.py export`. */
  readonly weightsDir: string;
  readonly outDir: string;
}

export interface TrainedModelFolder {
  readonly dir: string;
  readonly files: readonly WrittenFile[];
  readonly totalBytes: number;
}

/**
 * Builds the ONNX model folder (transformers.js layout, the same graph builder as the tiny random
 * model) from trained weights, with training.json (provenance) and reference.json beside it.
 */
export async function writeTrainedModel(options: WriteTrainedModelOptions): Promise<TrainedModelFolder> {
  const { manifest, weights } = await readTrainedWeights(options.weightsDir);
  if (manifest.otherLogit !== OTHER_TOKEN_LOGIT) {
    throw new TrainedWeightsError(
      `${options.weightsDir}: trained with other-token logit ${manifest.otherLogit}, the graphs use ${OTHER_TOKEN_LOGIT}`,
    );
  }
  const reference = await readFile(join(options.weightsDir, REFERENCE_FILE));
  const { tensors: _tensors, ...provenance } = manifest;
  return writeModelFolder({
    outDir: options.outDir,
    weights,
    config: {
      actial_tiny_model: {
        kind: 'trained-viewpoint',
        version: TRAINED_MODEL_VERSION,
        seed: manifest.training.seed,
        steps: manifest.training.steps,
      },
    },
    preprocessor: {
      max_pixels: TRAINED_IMAGE_PIXELS,
      size: { shortest_edge: 56 * 56, longest_edge: TRAINED_IMAGE_PIXELS },
    },
    extraFiles: {
      [TRAINING_FILE]: `${JSON.stringify(provenance, null, 2)}\n`,
      [REFERENCE_FILE]: reference,
    },
  });
}
