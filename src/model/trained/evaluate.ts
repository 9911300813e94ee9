import { preprocess } from '../../image/preprocess.js';
import type { ModelImage, RgbImage } from '../../image/types.js';
import { mirrorLabel, mostLikelyLabel, type DirectionLabel } from '../../spatial/direction.js';
import { engineOptionScorer } from '../../spatial/engine-scorer.js';
import { estimateViewpoint, type ViewpointEstimate } from '../../spatial/estimate.js';
import type { OptionOrder, ViewpointQuestionKind } from '../../spatial/prompts.js';
import { VIEWPOINT_QUESTION_KINDS } from '../../spatial/prompts.js';
import type { MotionKind } from '../../synth/motion.js';
import { PairGenerator } from '../../synth/pair.js';
import type { Engine, EngineImage } from '../engine.js';

/**
 * Scores the tiny viewpoint model the way the node uses a model: rendered pairs, the engine,
 * `estimateViewpoint` over an option scorer. Shared by the tests and tools/train/evaluate.ts.
 */

/** A rendered pair with its ground truth (camera perspective; the object perspective is the mirror). */
export interface LabelledPair {
  readonly seed: number;
  readonly index: number;
  readonly images: readonly [RgbImage, RgbImage];
  /** How the generator moved the second camera (orbit, yaw, slide, ...). */
  readonly motion: MotionKind;
  readonly egoTranslation: DirectionLabel;
  readonly yawRotation: DirectionLabel;
}

/** Renders pairs [start, start + count) of `seed` at `size` pixels. */
export function renderPairs(seed: number, count: number, start = 0, size = 224): LabelledPair[] {
  const generator = new PairGenerator({ seed, size });
  return Array.from({ length: count }, (_, i) => {
    const pair = generator.pair(start + i);
    const rgb = (data: Uint8Array): RgbImage => ({ width: size, height: size, data });
    return {
      seed,
      index: start + i,
      images: [rgb(pair.image1), rgb(pair.image2)],
      motion: pair.motion.kind,
      egoTranslation: pair.labels.egoTranslation,
      yawRotation: pair.labels.yawRotation,
    };
  });
}

/** What may go wrong before the model: a mirrored frame, or BGR bytes taken for RGB. */
export type ImageChange = 'none' | 'mirror' | 'bgr';

/** `image` mirrored left-right, or with its red and blue channels exchanged. */
export function changeImage(image: RgbImage, change: ImageChange): RgbImage {
  if (change === 'none') return image;
  const { width, height, data } = image;
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const from = (y * width + (change === 'mirror' ? width - 1 - x : x)) * 3;
      const to = (y * width + x) * 3;
      const [r = 0, g = 0, b = 0] = [data[from], data[from + 1], data[from + 2]];
      out.set(change === 'bgr' ? [b, g, r] : [r, g, b], to);
    }
  }
  return { width, height, data: out };
}

/** How pairs are put to the model. */
export interface ViewpointRunOptions {
  readonly change?: ImageChange;
  /** Ask about (target, source) instead of (source, target). */
  readonly swap?: boolean;
  /** Also ask the reverse direction and combine (estimateViewpoint's default); default false here. */
  readonly bothDirections?: boolean;
  readonly system?: string;
  readonly answerPrefix?: string;
  readonly optionOrders?: readonly OptionOrder[];
  /** Image size limits (default: 448x448 at most, the node's default). */
  readonly maxPixels?: number;
  /** Changes the model input after preprocessing (e.g. a wrong patch order); such images are not cached. */
  readonly transformModelImage?: (image: ModelImage) => ModelImage;
}

/** The answers for one pair: estimateViewpoint's labels, and each question's own answer. */
export interface PairAnswers {
  readonly estimate: Pick<ViewpointEstimate, 'egoTranslation' | 'objectTranslation' | 'yawRotation'>;
  /** Most likely label of each question on its own (source->target, averaged over option orders). */
  readonly questions: Record<ViewpointQuestionKind, DirectionLabel>;
}

export async function toModelImage(image: RgbImage, maxPixels = 448 * 448): Promise<ModelImage> {
  return preprocess(image, { maxPixels, minPixels: 56 * 56 });
}

/** Asks the three viewpoint questions about every pair. */
export async function answerPairs(
  engine: Engine,
  pairs: readonly LabelledPair[],
  options: ViewpointRunOptions = {},
): Promise<PairAnswers[]> {
  const scorer = engineOptionScorer(engine, options.answerPrefix ?? '');
  const change = options.change ?? 'none';
  const answers: PairAnswers[] = [];
  for (const pair of pairs) {
    const transform = options.transformModelImage;
    const [first, second] = await Promise.all(
      pair.images.map(async (image, i): Promise<EngineImage> => {
        const prepared = await toModelImage(changeImage(image, change), options.maxPixels);
        return transform
          ? { image: transform(prepared) }
          : { image: prepared, key: `${pair.seed}/${pair.index}/${i}/${change}` };
      }),
    );
    const [source, target] = options.swap ? [second, first] : [first, second];
    const estimate = await estimateViewpoint(scorer, source as EngineImage, target as EngineImage, {
      bothDirections: options.bothDirections ?? false,
      system: options.system,
      ...(options.optionOrders ? { optionOrders: options.optionOrders } : {}),
    });
    const { ego, object, yaw } = estimate.evidence.forward;
    answers.push({
      estimate: {
        egoTranslation: estimate.egoTranslation,
        objectTranslation: estimate.objectTranslation,
        yawRotation: estimate.yawRotation,
      },
      questions: {
        egoTranslation: mostLikelyLabel(ego),
        objectTranslation: mostLikelyLabel(object),
        yawRotation: mostLikelyLabel(yaw),
      },
    });
  }
  return answers;
}

/** The true answer to each question for a pair (after mirroring and/or swapping it: both flip left/right). */
export function truth(pair: LabelledPair, flipped = false): Record<ViewpointQuestionKind, DirectionLabel> {
  const ego = flipped ? mirrorLabel(pair.egoTranslation) : pair.egoTranslation;
  const yaw = flipped ? mirrorLabel(pair.yawRotation) : pair.yawRotation;
  return { egoTranslation: ego, objectTranslation: mirrorLabel(ego), yawRotation: yaw };
}

export type Accuracy = Record<ViewpointQuestionKind, number>;

/** Fraction of pairs whose answer to each question is right: `questions` (each on its own) or `estimate`. */
export function accuracy(
  pairs: readonly LabelledPair[],
  answers: readonly PairAnswers[],
  from: 'questions' | 'estimate' = 'questions',
  flipped = false,
): Accuracy {
  const result = {} as Record<ViewpointQuestionKind, number>;
  for (const kind of VIEWPOINT_QUESTION_KINDS) {
    const right = pairs.filter((pair, i) => answers[i]?.[from][kind] === truth(pair, flipped)[kind]).length;
    result[kind] = right / pairs.length;
  }
  return result;
}

/** `accuracy` of the pairs of each motion kind, with their count (kinds in order of first appearance). */
export function accuracyByMotion(
  pairs: readonly LabelledPair[],
  answers: readonly PairAnswers[],
): Partial<Record<MotionKind, Accuracy & { pairs: number }>> {
  const result: Partial<Record<MotionKind, Accuracy & { pairs: number }>> = {};
  for (const motion of new Set(pairs.map((pair) => pair.motion))) {
    const chosen = pairs.flatMap((pair, i) => (pair.motion === motion ? [i] : []));
    const subset = accuracy(
      chosen.map((i) => pairs[i] as LabelledPair),
      chosen.map((i) => answers[i] as PairAnswers),
    );
    result[motion] = { ...subset, pairs: chosen.length };
  }
  return result;
}

/** Fraction of pairs whose answer in `changed` is the left/right mirror of the answer in `base`. */
export function mirroredRate(
  base: readonly PairAnswers[],
  changed: readonly PairAnswers[],
  from: 'questions' | 'estimate' = 'questions',
): Accuracy {
  const result = {} as Record<ViewpointQuestionKind, number>;
  for (const kind of VIEWPOINT_QUESTION_KINDS) {
    const same = base.filter((b, i) => changed[i]?.[from][kind] === mirrorLabel(b[from][kind])).length;
    result[kind] = same / base.length;
  }
  return result;
}

/** Mean over the three questions. */
export function meanAccuracy(a: Accuracy): number {
  return (a.egoTranslation + a.objectTranslation + a.yawRotation) / 3;
}
