import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { runCli } from '../../../test/helpers/cli.js';
import { tinyModelDir } from '../../../test/helpers/tiny-model.js';
import { syntheticImage } from '../../image/reference.js';

let model: string;
let work: string;
let front: string;
let left: string;

beforeAll(async () => {
  model = await tinyModelDir();
  work = await mkdtemp(join(tmpdir(), 'actial-ask-'));
  front = join(work, 'front.png');
  left = join(work, 'left.jpg');
  const toFile = (seed: number, width: number, height: number) => {
    const { data } = syntheticImage(width, height, seed);
    return sharp(data, { raw: { width, height, channels: 3 } });
  };
  await toFile(1, 448, 448).png().toFile(front);
  await toFile(2, 320, 240).jpeg().toFile(left);
});

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

interface AskJson {
  prompt: string;
  text: string;
  answer: string;
  reasoning: string;
  choices?: string[];
  probabilities?: number[];
  choiceIndex?: number;
  timings: Record<string, number>;
}

describe('actial ask', () => {
  it('prints one JSON object with the prompt, answer, choice probabilities and timings', async () => {
    const result = await runCli([
      'ask',
      ...['--model', model, '--image', front, '--image', left],
      ...[
        '--question',
        'Did the camera move left or right?',
        '--choice',
        'A',
        '--choice',
        'B',
        '--choice',
        'C',
      ],
      ...['--max-new-tokens', '4', '--json'],
    ]);
    expect(result.stderr).toContain('onnxruntime: running on CPU');
    expect(result.stderr).toMatch(
      /model .*: onnx\/vision_encoder\.onnx \(fp32\), onnx\/embed_tokens\.onnx \(fp32\), onnx\/decoder_model_merged\.onnx \(fp32\)/,
    );
    expect(result.code).toBe(0);
    const output = JSON.parse(result.stdout) as AskJson;
    expect(Object.keys(output)).toEqual([
      'prompt',
      'text',
      'answer',
      'reasoning',
      'choices',
      'probabilities',
      'choiceIndex',
      'timings',
    ]);
    expect(output.prompt.startsWith('<|im_start|>system\nYou are Actial,')).toBe(true);
    expect(output.prompt.split('<|vision_start|><|image_pad|><|vision_end|>')).toHaveLength(3);
    expect(
      output.prompt.endsWith('Did the camera move left or right?<|im_end|>\n<|im_start|>assistant\n'),
    ).toBe(true);
    expect(output.choices).toEqual(['A', 'B', 'C']);
    expect(output.probabilities?.reduce((a, b) => a + b)).toBeCloseTo(1, 9);
    expect(output.choiceIndex).toBe(output.probabilities?.indexOf(Math.max(...(output.probabilities ?? []))));
    expect(output.answer).toBe(output.text.trim());
    expect(Object.keys(output.timings).sort()).toEqual(
      ['decodeMs', 'newTokens', 'prefillMs', 'promptTokens', 'totalMs', 'visionMs'].sort(),
    );
    // 448x448 -> 256 image tokens; 320x240 -> 308x224 -> 88 tokens.
    expect(output.timings.promptTokens).toBeGreaterThan(256 + 88);
    expect(output.timings.newTokens).toBe(4);
  });

  it('streams the answer on stdout without --json, and leaves out choices when none are given', async () => {
    const result = await runCli([
      'ask',
      ...['--model', model, '--image', front, '--question', 'What is it?', '--answer-format', 'plain'],
      ...['--max-new-tokens', '3', '--max-pixels', String(224 * 224), '--device', 'cuda'],
    ]);
    expect(result.code).toBe(0);
    expect(result.stderr).toMatch(/onnxruntime: running on (CPU although device cuda was requested|CUDA)/);
    expect(result.stderr).toMatch(/answer: /);
    expect(result.stderr).toMatch(/\d+ prompt tokens, 3 new/);
    expect(result.stderr).not.toMatch(/%/);
    expect(result.stdout.length).toBeGreaterThan(0);
  });

  it.each([
    ['a missing image file', ['--image', '/no/such.png'], /--image \/no\/such\.png: ENOENT/],
    ['an image that does not decode', ['--image', 'GARBAGE'], /--image .*garbage\.png: /],
    [
      'a missing model folder',
      ['--model', '/no/such/model'],
      /model folder \/no\/such\/model does not exist/,
    ],
    ['duplicate choices', ['--choice', 'A', '--choice', 'A'], /answer choice 'A' is given twice/],
    [
      'a dtype whose file is not in the model folder',
      ['--decoder-dtype', 'q4f16'],
      /decoder_model_merged_q4f16\.onnx \(dtype q4f16, asked for decoder_model_merged\); decoder_model_merged is there as fp32/,
    ],
    ['zero new tokens', ['--max-new-tokens', '0'], /--max-new-tokens: '0' is not an integer >= 1/],
  ])('exits 2 naming %s', async (_name, args, message) => {
    const garbage = join(work, 'garbage.png');
    await writeFile(garbage, 'not an image at all');
    const fixed = args.map((a) => (a === 'GARBAGE' ? garbage : a));
    const base = ['--model', model, '--image', front, '--question', 'Q?'];
    // Later flags win for --model; --image accumulates, so drop the default one when an image is given.
    const defaults = fixed.includes('--image') ? ['--model', model, '--question', 'Q?'] : base;
    const result = await runCli(['ask', ...defaults, ...fixed, '--json']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stdout).toBe('');
  });
});
