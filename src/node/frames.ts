import { prepareImage, ImageDecodeError, type ModelImage, type PrepareOptions } from '../image/index.js';
import { formatNs } from '../pairing/index.js';
import { NodeInputError, type ImageSource } from './input.js';

/** How a frame becomes model input: decoder options and the model's pixel budget. */
export type FramePreparation = PrepareOptions;

/** Decodes and preprocesses one image; rejects with ImageDecodeError for a bad image (see prepareImage). */
export type PrepareImage = (source: ImageSource, options: FramePreparation) => Promise<ModelImage>;

/**
 * One camera image held by the node. Its pixels are decoded and preprocessed only when inference
 * first uses it, once per preparation, and shared by every question about it.
 */
export class CameraFrame {
  readonly camera: string;
  /** Header stamp, nanoseconds. */
  readonly stamp: bigint;
  /** Optical frame: the camera's `optical_frame` parameter, else the image header's frame_id. */
  readonly frameId: string;
  /** Clock time of arrival, nanoseconds. */
  readonly receivedAt: bigint;
  /** Identity of the frame for the engine's vision-feature cache: `camera@stamp#instance.sequence`. */
  readonly key: string;
  readonly #source: ImageSource;
  #prepared: { readonly options: string; readonly image: Promise<ModelImage> } | undefined;
  #failure: NodeInputError | undefined;

  constructor(init: {
    camera: string;
    stamp: bigint;
    frameId: string;
    receivedAt: bigint;
    source: ImageSource;
    /** Makes `key` unique among frames with the same camera and stamp (time jumps, several cores). */
    uniqueSuffix: string;
  }) {
    this.camera = init.camera;
    this.stamp = init.stamp;
    this.frameId = init.frameId;
    this.receivedAt = init.receivedAt;
    this.#source = init.source;
    this.key = `${init.camera}@${formatNs(init.stamp)}#${init.uniqueSuffix}`;
  }

  /** Why decoding failed, once it has; such frames are not used again. */
  get failure(): NodeInputError | undefined {
    return this.#failure;
  }

  /**
   * Decodes and preprocesses the image (once per `options`) with `prepare` (default: on this
   * thread). Rejects with NodeInputError.
   */
  prepare(options: FramePreparation, prepare: PrepareImage = prepareImage): Promise<ModelImage> {
    const id = JSON.stringify([
      options.maxPixels,
      options.minPixels,
      options.resize ?? '',
      options.maxInputPixels ?? 0,
      options.allowDepthAsImage ?? false,
    ]);
    if (this.#prepared?.options !== id) {
      const image = this.#decode(options, prepare);
      this.#prepared = { options: id, image };
    }
    return this.#prepared.image;
  }

  async #decode(options: FramePreparation, prepare: PrepareImage): Promise<ModelImage> {
    const what = `camera ${this.camera} frame ${formatNs(this.stamp)}`;
    try {
      return await prepare(this.#source, options);
    } catch (error) {
      this.#failure =
        error instanceof ImageDecodeError
          ? new NodeInputError(error.code, `${what}: ${error.message}`)
          : new NodeInputError('decode_failed', `${what}: ${(error as Error)?.message ?? String(error)}`);
      throw this.#failure;
    }
  }
}

/** Limits of a camera's frame history. */
export interface HistoryLimits {
  /** Frames kept at most. */
  readonly size: number;
  /** Frames older than the newest by more than this are dropped, nanoseconds. */
  readonly durationNs: bigint;
}

/** The recent frames of one camera, sorted by stamp, bounded by count and by time span. */
export class FrameHistory {
  readonly #frames: CameraFrame[] = [];
  #limits: HistoryLimits;

  constructor(limits: HistoryLimits) {
    this.#limits = limits;
  }

  get size(): number {
    return this.#frames.length;
  }

  /** Newest frame, or undefined. */
  get newest(): CameraFrame | undefined {
    return this.#frames[this.#frames.length - 1];
  }

  /** Oldest frame, or undefined. */
  get oldest(): CameraFrame | undefined {
    return this.#frames[0];
  }

  /** Adds a frame in stamp order. Returns false (and keeps the old one) when a frame with its stamp is held. */
  add(frame: CameraFrame): boolean {
    const frames = this.#frames;
    let i = frames.length;
    while (i > 0 && (frames[i - 1] as CameraFrame).stamp > frame.stamp) i--;
    if (i > 0 && (frames[i - 1] as CameraFrame).stamp === frame.stamp) return false;
    frames.splice(i, 0, frame);
    this.#trim();
    return true;
  }

  /** The usable (not failed) frame nearest to `stamp`; on a tie the later one. */
  nearest(stamp: bigint): CameraFrame | undefined {
    let best: CameraFrame | undefined;
    let bestDistance = 0n;
    for (const frame of this.#frames) {
      if (frame.failure) continue;
      const distance = frame.stamp > stamp ? frame.stamp - stamp : stamp - frame.stamp;
      if (best === undefined || distance <= bestDistance) {
        best = frame;
        bestDistance = distance;
      }
    }
    return best;
  }

  /** Newest usable (not failed) frame. */
  newestUsable(): CameraFrame | undefined {
    for (let i = this.#frames.length - 1; i >= 0; i--) {
      const frame = this.#frames[i] as CameraFrame;
      if (!frame.failure) return frame;
    }
    return undefined;
  }

  setLimits(limits: HistoryLimits): void {
    this.#limits = limits;
    this.#trim();
  }

  clear(): void {
    this.#frames.length = 0;
  }

  #trim(): void {
    const frames = this.#frames;
    while (frames.length > this.#limits.size) frames.shift();
    const newest = frames[frames.length - 1];
    if (!newest) return;
    while (frames.length > 1 && newest.stamp - (frames[0] as CameraFrame).stamp > this.#limits.durationNs) {
      frames.shift();
    }
  }
}

/** Frames of several cameras chosen together, or why none could be. */
export type FrameMatch = { readonly frames: CameraFrame[] } | { readonly error: string };

const describeSpan = (history: FrameHistory): string => {
  const { oldest, newest } = history;
  return oldest && newest ? `history ${formatNs(oldest.stamp)} .. ${formatNs(newest.stamp)} s` : 'no frames';
};

/**
 * The latest synchronised frames of `cameras`: the camera whose newest usable frame is oldest sets
 * the anchor, every other camera contributes its frame nearest to it, and the spread of the stamps
 * must not exceed `maxSpreadNs` (null: unlimited).
 */
export function matchLatest(
  cameras: readonly string[],
  histories: ReadonlyMap<string, FrameHistory>,
  maxSpreadNs: bigint | null,
): FrameMatch {
  let anchor: bigint | undefined;
  for (const camera of cameras) {
    const newest = histories.get(camera)?.newestUsable();
    if (!newest) return { error: `no frames yet from camera '${camera}'` };
    if (anchor === undefined || newest.stamp < anchor) anchor = newest.stamp;
  }
  const frames = cameras.map((camera) => histories.get(camera)?.nearest(anchor as bigint) as CameraFrame);
  if (maxSpreadNs !== null) {
    const stamps = frames.map((f) => f.stamp);
    const spread = stamps.reduce((a, b) => (b > a ? b : a)) - stamps.reduce((a, b) => (b < a ? b : a));
    if (spread > maxSpreadNs) {
      const list = frames.map((f) => `${f.camera} ${formatNs(f.stamp)}`).join(', ');
      return {
        error: `the latest frames of ${cameras.join(', ')} are ${formatNs(spread)} s apart (${list}), more than pairing.max_interval_s ${formatNs(maxSpreadNs)}`,
      };
    }
  }
  return { frames };
}

/** For each camera the usable history frame nearest `stamp`, each within `toleranceNs` of it. */
export function matchAt(
  cameras: readonly string[],
  histories: ReadonlyMap<string, FrameHistory>,
  stamp: bigint,
  toleranceNs: bigint,
): FrameMatch {
  const frames: CameraFrame[] = [];
  for (const camera of cameras) {
    const history = histories.get(camera) as FrameHistory;
    if (!history.newestUsable()) return { error: `no frames yet from camera '${camera}'` };
    const frame = history.nearest(stamp);
    const distance = frame ? (frame.stamp > stamp ? frame.stamp - stamp : stamp - frame.stamp) : undefined;
    if (!frame || distance === undefined || distance > toleranceNs) {
      return {
        error: `no frame of camera '${camera}' within ${formatNs(toleranceNs)} s of stamp ${formatNs(stamp)} (${describeSpan(history)})`,
      };
    }
    frames.push(frame);
  }
  return { frames };
}
