import sharp from 'sharp';
import {
  decodeCompressedImage,
  decodeImage,
  prepareImage,
  preprocess,
  type ImageMessage,
  type ImageSource,
  type PreprocessOptions,
  type RgbImage,
} from '../image/index.js';
import { ImagePreparePool } from '../image/prepare-pool.js';
import { resizeBicubicPillow } from '../image/resample.js';
import { createReferenceProcessor, syntheticImage } from '../image/reference.js';
import { interleaved, median, timeRuns, type BenchSuite, type Figure } from './figure.js';

const limits = { minPixels: 3136, maxPixels: 448 * 448 };

function ms(name: string, value: number): Figure {
  return { name, value, unit: 'ms', better: 'lower', target: null };
}

function ratio(name: string, value: number): Figure {
  return { name, value, unit: 'x', better: 'higher', target: 2 };
}

/**
 * One 1280x720 camera frame to Qwen2.5-VL input at max_pixels 448*448 (588x336, 1008 patches): decode,
 * convert, resize, normalise, patchify. Ours against @huggingface/transformers' Qwen2VLImageProcessor doing
 * the same work on the same image (for rgb8 it gets a RawImage of the same bytes; for JPEG it decodes the
 * bytes itself).
 */
export const preprocessSuite: BenchSuite = {
  name: 'preprocess',
  async run({ quick }) {
    const iterations = quick ? 5 : 30;
    const frame = syntheticImage(1280, 720, 42);
    const message = rgb8Message(frame);
    const jpeg = new Uint8Array(
      await sharp(frame.data, { raw: { width: 1280, height: 720, channels: 3 } })
        .jpeg({ quality: 90 })
        .toBuffer(),
    );
    const options = (resize: PreprocessOptions['resize']): PreprocessOptions => ({ ...limits, resize });
    const reference = await createReferenceProcessor(limits);
    try {
      const ours = {
        rgb8: median(await timeRuns(() => preprocess(decodeImage(message), limits), iterations, 2)),
        jpeg: median(
          await timeRuns(
            async () =>
              preprocess(
                await decodeCompressedImage({ format: 'rgb8; jpeg compressed bgr8', data: jpeg }),
                limits,
              ),
            iterations,
            2,
          ),
        ),
        rgb8Fast: median(
          await timeRuns(() => preprocess(decodeImage(message), options('fast')), iterations, 2),
        ),
      };
      const theirs = {
        rgb8: median(await timeRuns(() => reference.processRgb(frame), iterations, 2)),
        jpeg: median(await timeRuns(() => reference.processEncoded(jpeg), iterations, 2)),
      };
      const pair = await pairPreparation(quick ? 5 : 30);
      // Pillow's bicubic passes alone, 640x480 -> 504x364 (max_pixels 448*448): WebAssembly SIMD
      // against the JavaScript passes, which give the same bytes.
      const camera = syntheticImage(640, 480, 9);
      const resize = (simd: boolean) => () => resizeBicubicPillow(camera.data, 640, 480, 504, 364, { simd });
      const [simdResize = NaN, jsResize = NaN] = await interleaved([resize(true), resize(false)], iterations);
      return [
        ms('preprocess.rgb8_1280x720.ms', ours.rgb8),
        ms('preprocess.jpeg_1280x720.ms', ours.jpeg),
        ratio('preprocess.rgb8_1280x720.ratio_vs_transformersjs', theirs.rgb8 / ours.rgb8),
        ratio('preprocess.jpeg_1280x720.ratio_vs_transformersjs', theirs.jpeg / ours.jpeg),
        ms('preprocess.rgb8_1280x720.fast_resize.ms', ours.rgb8Fast),
        ms('preprocess.rgb8_1280x720.transformersjs.ms', theirs.rgb8),
        ms('preprocess.jpeg_1280x720.transformersjs.ms', theirs.jpeg),
        ms('preprocess.resize_640x480.simd.ms', simdResize),
        ms('preprocess.resize_640x480.js.ms', jsResize),
        { ...ratio('preprocess.resize_640x480.simd_speedup', jsResize / simdResize), target: null },
        ms('preprocess.pair_640x480.main_thread.ms', pair.mainThread),
        ms('preprocess.pair_640x480.threads2.ms', pair.pool),
        { ...ratio('preprocess.pair_640x480.threads2_speedup', pair.mainThread / pair.pool), target: null },
      ];
    } finally {
      await reference.dispose();
    }
  },
};

/**
 * The two frames of a camera pair (640x480 rgb8, a fresh copy each as a subscription gives them)
 * to model input, as the node prepares them for a viewpoint estimate: one after the other on this
 * thread (`image.prepare_threads` 0) against both at once in the two threads of the default pool.
 * Runs alternate, so that both see the same machine load; medians of `iterations` each.
 */
async function pairPreparation(iterations: number): Promise<{ mainThread: number; pool: number }> {
  const frames = [syntheticImage(640, 480, 7), syntheticImage(640, 480, 8)];
  const sources = (): ImageSource[] =>
    frames.map((frame) => ({ kind: 'raw', message: rgb8Message(frame, frame.data.slice()) }));
  const options = { ...limits, sharedMemory: true };
  const pool = await ImagePreparePool.create({ threads: 2 });
  try {
    const [mainThread = NaN, pooled = NaN] = await interleaved(
      [
        async () => {
          for (const source of sources()) await prepareImage(source, options);
        },
        () => Promise.all(sources().map((source) => pool.prepare(source, options))),
      ],
      iterations,
    );
    return { mainThread, pool: pooled };
  } finally {
    await pool.close();
  }
}

/** `frame` as a sensor_msgs/Image rgb8 message without row padding, holding `data`. */
function rgb8Message(frame: RgbImage, data = frame.data): ImageMessage {
  return {
    width: frame.width,
    height: frame.height,
    encoding: 'rgb8',
    is_bigendian: 0,
    step: frame.width * 3,
    data,
  };
}
