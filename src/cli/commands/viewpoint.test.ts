import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { runCli } from '../../../test/helpers/cli.js';
import { tinyModelDir } from '../../../test/helpers/tiny-model.js';
import { syntheticImage } from '../../image/reference.js';

let model: string;
let work: string;
let first: string;
let second: string;

beforeAll(async () => {
  model = await tinyModelDir();
  work = await mkdtemp(join(tmpdir(), 'actial-viewpoint-'));
  first = join(work, 'first.png');
  second = join(work, 'second.png');
  for (const [seed, path] of [
    [1, first],
    [2, second],
  ] as const) {
    const { data } = syntheticImage(224, 224, seed);
    await sharp(data, { raw: { width: 224, height: 224, channels: 3 } })
      .png()
      .toFile(path);
  }
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

interface ViewpointJson {
  egoTranslation: string;
  egoTranslationProbs: number[];
  objectTranslation: string;
  objectTranslationProbs: number[];
  yawRotation: string;
  yawRotationProbs: number[];
  yawDegrees: number | null;
  consistency: number | null;
  rotation: { x: number; y: number; z: number; w: number };
  timings: Record<string, unknown>;
}

const labels = ['left', 'none', 'right'];
const sum = (values: number[]): number => values.reduce((a, b) => a + b, 0);

describe('actial viewpoint', () => {
  it('prints one ViewpointEstimate with probabilities, consistency and a unit quaternion', async () => {
    const result = await runCli([
      'viewpoint',
      ...['--model', model, '--image', first, '--image', second],
      ...['--both-directions', '--yaw', '--json'],
    ]);
    expect(result.code).toBe(0);
    const estimate = JSON.parse(result.stdout) as ViewpointJson;
    for (const key of ['egoTranslation', 'objectTranslation', 'yawRotation'] as const) {
      expect(labels).toContain(estimate[key]);
      const probs = estimate[`${key}Probs`];
      expect(probs).toHaveLength(3);
      expect(sum(probs)).toBeCloseTo(1, 6);
      expect(estimate[key]).toBe(labels[probs.indexOf(Math.max(...probs))]);
    }
    expect(estimate.objectTranslationProbs).toEqual([...estimate.egoTranslationProbs].reverse());
    expect(typeof estimate.yawDegrees).toBe('number');
    expect(estimate.consistency).toBeGreaterThanOrEqual(0);
    expect(estimate.consistency).toBeLessThanOrEqual(1);
    const q = estimate.rotation;
    expect(Math.hypot(q.x, q.y, q.z, q.w)).toBeCloseTo(1, 9);
    expect(estimate.timings).toBeDefined();
  });

  it('without --yaw reports yawDegrees null; asks both directions unless --no-both-directions, as the node does', async () => {
    const run = async (extra: string[]) => {
      const result = await runCli([
        'viewpoint',
        '--model',
        model,
        '--image',
        first,
        '--image',
        second,
        ...extra,
      ]);
      expect(result.code).toBe(0);
      return JSON.parse(result.stdout) as ViewpointJson;
    };
    const byDefault = await run(['--json']);
    expect(byDefault.yawDegrees).toBeNull();
    expect(typeof byDefault.timings.reverseMs).toBe('number');
    const forwardOnly = await run(['--no-both-directions', '--json']);
    expect(forwardOnly.timings.reverseMs).toBeNull();
  });

  it.each([
    [['--image', 'ONE'], /exactly two images/],
    [['--image', 'ONE', '--image', 'TWO'], /--image .*ONE/],
    [['--option-orders', '7'], /--option-orders: '7' is more than 6/],
    [['--option-orders', 'x'], /--option-orders: 'x' is not an integer/],
  ])('rejects bad arguments %j with exit code 2', async (args, message) => {
    const images = args.includes('--image') ? [] : ['--image', first, '--image', second];
    const result = await runCli([
      'viewpoint',
      '--model',
      model,
      ...images,
      ...args.map((a) => (a === 'ONE' || a === 'TWO' ? join(work, `missing-${a}.png`) : a)),
    ]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  });
});
