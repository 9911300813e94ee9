import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../test/helpers/cli.js';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'actial-tiny-cli-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('actial tiny-model', () => {
  it('writes the model folder and lists it as JSON', async () => {
    const out = join(root, 'model');
    const result = await runCli(['tiny-model', '--out', out, '--seed', '7', '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as {
      dir: string;
      seed: number;
      files: { path: string; bytes: number }[];
      totalBytes: number;
    };
    expect(summary).toMatchObject({ dir: out, seed: 7 });
    expect(summary.files.map((f) => f.path)).toContain('onnx/decoder_model_merged.onnx');
    for (const file of summary.files) expect((await stat(join(out, file.path))).size).toBe(file.bytes);
    const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8')) as {
      actial_tiny_model: unknown;
    };
    expect(config.actial_tiny_model).toEqual({ seed: 7, version: 2, attention: 'fused' });
  });

  it('--attention explicit writes the opset-14 decoder and records the choice', async () => {
    const out = join(root, 'explicit');
    const result = await runCli(['tiny-model', '--out', out, '--attention', 'explicit']);
    expect(result.code).toBe(0);
    const config = JSON.parse(await readFile(join(out, 'config.json'), 'utf8')) as {
      actial_tiny_model: { attention: string };
    };
    expect(config.actial_tiny_model.attention).toBe('explicit');
    const decoder = await readFile(join(out, 'onnx/decoder_model_merged.onnx'));
    expect(decoder.includes(Buffer.from('Softmax'))).toBe(true);
    expect(decoder.includes(Buffer.from('Attention'))).toBe(false);
  });

  it('rejects an unknown --attention, naming the allowed kinds', async () => {
    const result = await runCli(['tiny-model', '--out', join(root, 'bad'), '--attention', 'flash']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("'flash' is invalid. Allowed choices are fused, explicit");
  });

  it('logs the written files to stderr without --json', async () => {
    const result = await runCli(['tiny-model', '--out', join(root, 'plain')]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/wrote 9 files, \d+ bytes, seed 1, to /);
  });

  it.each(['-3', '1.5', 'abc', '4294967296'])(
    'rejects --seed %s with exit code 2, naming it',
    async (seed) => {
      const result = await runCli(['tiny-model', '--out', join(root, 'bad'), '--seed', seed]);
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(`--seed must be an integer in [0, 4294967295], got "${seed}"`);
    },
  );

  it('requires --out', async () => {
    const result = await runCli(['tiny-model']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--out/);
  });
});
