import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TinyModelDimensions } from '../tiny/config.js';
import { assembleTinyWeights, type TinyModelWeights, type Weight } from '../tiny/weights.js';

/**
 * The weights tools/train/train.py exports: `weights.bin` (float32 little-endian, tensors one after
 * another, matrices [in, out]) and `weights.json` (this manifest).
 */
export interface TrainedWeightsManifest {
  readonly format: 'actial-tiny-weights';
  readonly formatVersion: 1;
  readonly dimensions: TinyModelDimensions;
  readonly vocabularyIds: readonly number[];
  readonly otherLogit: number;
  readonly tensors: readonly {
    readonly name: string;
    readonly dims: readonly number[];
    readonly offset: number;
  }[];
  /** Provenance: command, seed, steps, time, data sets, validation accuracy, torch version. */
  readonly training: Record<string, unknown>;
}

/** Raised for a weights folder that is missing, malformed, or disagrees with the graph builder. */
export class TrainedWeightsError extends Error {
  override readonly name = 'TrainedWeightsError';
}

function checkManifest(value: unknown, path: string): TrainedWeightsManifest {
  const m = value as Partial<TrainedWeightsManifest> | null;
  if (!m || m.format !== 'actial-tiny-weights' || m.formatVersion !== 1) {
    throw new TrainedWeightsError(`${path}: not an actial-tiny-weights manifest of format version 1`);
  }
  if (!m.dimensions || !Array.isArray(m.vocabularyIds) || !Array.isArray(m.tensors)) {
    throw new TrainedWeightsError(`${path}: dimensions, vocabularyIds and tensors are required`);
  }
  return m as TrainedWeightsManifest;
}

/** Reads an exported weights folder into the graph builder's weights (every tensor checked by name and shape). */
export async function readTrainedWeights(
  dir: string,
): Promise<{ manifest: TrainedWeightsManifest; weights: TinyModelWeights }> {
  const manifestPath = join(dir, 'weights.json');
  let manifest: TrainedWeightsManifest;
  let bin: Buffer;
  try {
    manifest = checkManifest(JSON.parse(await readFile(manifestPath, 'utf8')), manifestPath);
    bin = await readFile(join(dir, 'weights.bin'));
  } catch (error) {
    if (error instanceof TrainedWeightsError) throw error;
    throw new TrainedWeightsError(`${dir}: ${(error as Error).message}`, { cause: error });
  }
  const floats = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
  const tensors = new Map(manifest.tensors.map((t) => [t.name, t]));
  const used = new Set<string>();
  const weights = assembleTinyWeights(
    (name, dims): Weight => {
      const tensor = tensors.get(name);
      if (!tensor) throw new TrainedWeightsError(`${manifestPath}: no tensor named ${name}`);
      if (tensor.dims.join() !== dims.join()) {
        throw new TrainedWeightsError(
          `${manifestPath}: ${name} has dims [${tensor.dims.join(', ')}], the graph needs [${dims.join(', ')}]`,
        );
      }
      const size = dims.reduce((a, b) => a * b, 1);
      if (tensor.offset + size > floats.length) {
        throw new TrainedWeightsError(`${manifestPath}: ${name} runs past the end of weights.bin`);
      }
      used.add(name);
      return { name, dims, data: floats.slice(tensor.offset, tensor.offset + size) };
    },
    manifest.dimensions,
    manifest.vocabularyIds,
  );
  const unused = [...tensors.keys()].filter((name) => !used.has(name));
  if (unused.length > 0)
    throw new TrainedWeightsError(`${manifestPath}: tensors the graphs do not use: ${unused.join(', ')}`);
  return { manifest, weights };
}
