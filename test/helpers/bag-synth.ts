import { writeFile } from 'node:fs/promises';
import { McapBagWriter, type McapBagWriterOptions } from '../../src/bag/mcap-writer.js';
import { SynthBagWriter } from '../../src/synth/bag.js';
import { PairGenerator } from '../../src/synth/pair.js';
import { header } from './bag-writers.js';

/** One camera of a synthetic rig bag. */
export interface RigCamera {
  readonly name: string;
  /** Which view of each synthetic pair the camera sees (and where it stands). */
  readonly view: 1 | 2;
  /** Steps whose /tf holds world -> this camera's optical frame (default: every step). */
  readonly tfSteps?: readonly number[];
}

/** Options of {@link writeRigBag}. */
export interface RigBagOptions {
  readonly steps: number;
  readonly cameras: readonly RigCamera[];
  /** Synthetic data seed (default the held-out 1,000,000). */
  readonly seed?: number;
  /** Image side, pixels (default 56: small and fast). */
  readonly size?: number;
  /** Chunking and compression of the file (default: McapBagWriter's). */
  readonly writer?: McapBagWriterOptions;
  /** Steps whose /tf stamps are written non-normalised: one second less, nanosec 1e9 more. */
  readonly carriedTfStampSteps?: readonly number[];
}

/** The same time written with nanosec >= 1e9, as some recorders do. */
function carried<T extends { stamp: { sec: number; nanosec: number } }>(h: T): T {
  return { ...h, stamp: { sec: h.stamp.sec - 1, nanosec: h.stamp.nanosec + 1_000_000_000 } };
}

/** Optical frame and image topic of a rig camera. */
export function rigNames(name: string): { frame: string; topic: string } {
  return { frame: `${name}_optical_frame`, topic: `/${name}/image_raw` };
}

/**
 * Writes an MCAP bag of synthetic pairs for evaluation tests: per step, /tf with world -> optical
 * frame of each camera whose `tfSteps` include the step, then an rgb8 image per camera, all
 * stamped SynthBagWriter.stampOf(step). Returns the stamps.
 */
export async function writeRigBag(path: string, options: RigBagOptions): Promise<bigint[]> {
  const generator = new PairGenerator({ seed: options.seed ?? 1_000_000, size: options.size ?? 56 });
  const { width, height } = generator.camera;
  const writer = await McapBagWriter.create(path, options.writer);
  const stamps: bigint[] = [];
  try {
    for (let step = 0; step < options.steps; step++) {
      const pair = generator.pair(step);
      const stamp = SynthBagWriter.stampOf(step);
      stamps.push(stamp);
      const transforms = options.cameras
        .filter((c) => c.tfSteps === undefined || c.tfSteps.includes(step))
        .map((c) => ({
          header: options.carriedTfStampSteps?.includes(step)
            ? carried(header(stamp, 'world'))
            : header(stamp, 'world'),
          child_frame_id: rigNames(c.name).frame,
          transform: c.view === 1 ? pair.worldFromCamera1 : pair.worldFromCamera2,
        }));
      if (transforms.length > 0) {
        await writer.write('/tf', 'tf2_msgs/msg/TFMessage', { transforms }, { logTimeNs: stamp });
      }
      for (const [k, camera] of options.cameras.entries()) {
        const names = rigNames(camera.name);
        await writer.write(
          names.topic,
          'sensor_msgs/msg/Image',
          {
            header: header(stamp, names.frame),
            height,
            width,
            encoding: 'rgb8',
            is_bigendian: 0,
            step: width * 3,
            data: camera.view === 1 ? pair.image1 : pair.image2,
          },
          { logTimeNs: stamp + BigInt(k + 1) * 1_000_000n },
        );
      }
    }
  } finally {
    await writer.close();
  }
  return stamps;
}

/** Writes a params file for the rig: cameras, topics, optical frames, exact pairing, the given pairs. */
export async function writeRigConfig(
  path: string,
  cameras: readonly string[],
  pairs: readonly (readonly [string, string])[],
  viewpoint: { readonly yaw?: boolean; readonly optionOrders?: number } = {},
): Promise<void> {
  const lines = [
    '/**:',
    '  ros__parameters:',
    `    cameras: [${cameras.join(', ')}]`,
    '    camera:',
    ...cameras.flatMap((name) => {
      const names = rigNames(name);
      return [`      ${name}:`, `        topic: ${names.topic}`, `        optical_frame: ${names.frame}`];
    }),
    '    pairing:',
    '      policy: exact',
    '      pair_mode: list',
    `      pairs: [${pairs.map(([a, b]) => `"${a}:${b}"`).join(', ')}]`,
    '    queue:',
    '      size: 8',
    '    model:',
    '      max_pixels: 3136',
    '    viewpoint:',
    '      rate_hz: 100.0',
    `      yaw: ${viewpoint.yaw ?? false}`,
    `      option_orders: ${viewpoint.optionOrders ?? 1}`,
  ];
  await writeFile(path, `${lines.join('\n')}\n`);
}
