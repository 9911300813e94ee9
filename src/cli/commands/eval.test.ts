import { existsSync } from 'node:fs';
import { mkdtemp, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../../test/helpers/cli.js';
import { writeRigBag, writeRigConfig } from '../../../test/helpers/bag-synth.js';
import { tinyModelDir } from '../../../test/helpers/tiny-model.js';
import { openBag } from '../../bag/open.js';
import type { EvalReport } from '../../eval/report.js';
import { readFolderJson, variantFolder } from '../../model/test-folders.js';
import { PairGenerator } from '../../synth/pair.js';

const LABELS = ['left', 'none', 'right'];
const QUESTIONS = ['egoTranslation', 'objectTranslation', 'yawRotation'] as const;

let dir: string;
let model: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'actial-eval-'));
  model = await tinyModelDir();
});

async function readReport(out: string): Promise<EvalReport> {
  return JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as EvalReport;
}

/** Checks what any report must satisfy, recomputing the aggregates from `pairs`. */
function checkReportConsistency(report: EvalReport): void {
  expect(report.schema).toBe('actial-eval-report/1');
  expect(report.config.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
  expect(report.counts.evaluated).toBe(report.pairs.length);
  for (const q of QUESTIONS) {
    const correct = report.pairs.filter((p) => p.truth[q] === p.prediction[q]).length;
    expect(report.accuracy[q]).toEqual({
      correct,
      total: report.pairs.length,
      accuracy: report.pairs.length ? correct / report.pairs.length : null,
    });
    const matrix = report.confusion[q].matrix;
    expect(report.confusion[q].labels).toEqual(LABELS);
    expect(matrix.flat().reduce((a, b) => a + b, 0)).toBe(report.pairs.length);
    expect(matrix.reduce((a, row, i) => a + (row[i] ?? 0), 0)).toBe(correct);
    for (const [t, truth] of LABELS.entries()) {
      for (const [p, prediction] of LABELS.entries()) {
        expect(matrix[t]?.[p]).toBe(
          report.pairs.filter((x) => x.truth[q] === truth && x.prediction[q] === prediction).length,
        );
      }
    }
  }
  for (const pair of report.pairs) {
    expect(pair.stamps.every((s) => typeof s === 'string' && /^\d+$/.test(s))).toBe(true);
    for (const q of QUESTIONS) {
      expect(LABELS).toContain(pair.truth[q]);
      const probs = pair.prediction[`${q}Probs`];
      expect(probs).toHaveLength(3);
      expect(probs.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
    expect(pair.inferenceMs).toBeGreaterThan(0);
  }
  const skipped = Object.values(report.counts.skippedByReason).reduce((a, b) => a + b, 0);
  expect(skipped).toBe(report.counts.skipped);
}

describe('actial eval on synthetic bags, end to end (real model, real subprocess)', () => {
  it('scores every pair against tf, writes report.json, a self-contained report.html and predictions.mcap', async () => {
    const bag = join(dir, 'rig.mcap');
    const config = join(dir, 'rig.yaml');
    const out = join(dir, 'out');
    const steps = 8;
    const stamps = await writeRigBag(bag, {
      steps,
      cameras: [
        { name: 'cam1', view: 1 },
        { name: 'cam2', view: 2 },
      ],
      // Two /tf messages of two transforms each, read by the tf pass and again by the replay.
      carriedTfStampSteps: [2, 5],
    });
    await writeRigConfig(config, ['cam1', 'cam2'], [['cam1', 'cam2']], { yaw: true });
    const result = await runCli(['eval', '--bag', bag, '--config', config, '--model', model, '--out', out], {
      cwd: dir,
    });
    expect(result.stderr).not.toMatch(/actial: /);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^pairs: 8 scored, 0 skipped/m);
    expect(result.stdout).toContain(`report: ${join(out, 'report.html')}`);
    expect(result.stderr).toMatch(/eval: replaying \d+\/\d+ \(100%\) messages, 8 pairs scored, 0 skipped/);

    const report = await readReport(out);
    checkReportConsistency(report);
    expect(report.pairs).toHaveLength(steps);
    expect(report.bag).toMatchObject({
      storage: 'mcap',
      sample: false,
      limited: false,
      truncated: null,
      normalizedStamps: 4,
    });
    expect(report.model).toMatchObject({ source: 'argument', path: model });
    expect(report.device.executionProvider).toBe('cpu');
    expect(report.model.files).toMatch(
      /^onnx\/vision_encoder\.onnx \(fp32\), .*onnx\/decoder_model_merged\.onnx \(fp32\)$/,
    );
    expect(report.config.pairs).toEqual([['cam1', 'cam2']]);
    // Ground truth from tf equals the labels the synthetic generator assigned to each pair.
    const generator = new PairGenerator({ seed: 1_000_000, size: 56 });
    for (const [i, pair] of report.pairs.entries()) {
      expect(pair.cameras).toEqual(['cam1', 'cam2']);
      expect(pair.stamps).toEqual([String(stamps[i]), String(stamps[i])]);
      const labels = generator.geometry(i).labels;
      expect(pair.truth.egoTranslation).toBe(labels.egoTranslation);
      expect(pair.truth.objectTranslation).toBe(labels.objectTranslation);
      expect(pair.truth.yawRotation).toBe(labels.yawRotation);
      expect(pair.truth.yawDegrees).toBeCloseTo(labels.yawDegrees, 6);
      expect(typeof pair.prediction.yawDegrees).toBe('number');
    }
    expect(report.yaw.estimated).toBe(steps);
    expect(report.yaw.histogram?.counts.reduce((a, b) => a + b, 0)).toBe(steps);
    expect(report.latency.inferenceMs?.count).toBe(steps);

    const html = await readFile(join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/^<!DOCTYPE html>/);
    expect(html).not.toMatch(/https?:|<script|<link|src="(?!data:)/i);
    expect(html.match(/<svg /g)).toHaveLength(3);
    expect(html.match(/<img src="data:image\/jpeg;base64,/g)?.length).toBeGreaterThanOrEqual(2);
    expect(html).toContain('Confusion matrices');

    const predictions = await openBag(join(out, 'predictions.mcap'));
    const byTopic = new Map<string, unknown[]>();
    for await (const m of predictions.messages())
      byTopic.set(m.topic, [...(byTopic.get(m.topic) ?? []), m.message]);
    await predictions.close();
    const viewpoints = byTopic.get('/actial/viewpoint') as {
      ego_translation: number;
      target_stamp: { sec: number };
    }[];
    expect(viewpoints).toHaveLength(steps);
    expect(viewpoints.map((v) => LABELS[v.ego_translation + 1])).toEqual(
      report.pairs.map((p) => p.prediction.egoTranslation),
    );
    const truths = byTopic.get('/actial/ground_truth') as { yaw_rotation: number }[];
    expect(truths.map((t) => LABELS[t.yaw_rotation + 1])).toEqual(
      report.pairs.map((p) => p.truth.yawRotation),
    );
    expect(byTopic.get('/diagnostics')?.length).toBeGreaterThan(0);
  });

  it('a camera without tf: its pairs are skipped with the reason counted, the others scored; --limit', async () => {
    const bag = join(dir, 'gaps.mcap');
    const config = join(dir, 'gaps.yaml');
    const out = join(dir, 'gaps');
    await writeRigBag(bag, {
      steps: 6,
      cameras: [
        { name: 'cam1', view: 1 },
        { name: 'cam2', view: 2, tfSteps: [0, 1, 2, 3] },
        { name: 'cam3', view: 2, tfSteps: [] },
      ],
    });
    await writeRigConfig(
      config,
      ['cam1', 'cam2', 'cam3'],
      [
        ['cam1', 'cam2'],
        ['cam1', 'cam3'],
      ],
    );
    const result = await runCli(
      ['eval', '--bag', bag, '--config', config, '--model', model, '--out', out, '--no-predictions'],
      { cwd: dir },
    );
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('pairs: 4 scored, 8 skipped (tf_missing_frame 6, tf_extrapolation 2)');
    expect(result.stdout).toContain('warning: optical frames not in tf: cam3_optical_frame');
    const report = await readReport(out);
    checkReportConsistency(report);
    expect(report.counts.skippedByReason).toMatchObject({ tf_missing_frame: 6, tf_extrapolation: 2 });
    expect(report.pairs.every((p) => p.cameras[1] === 'cam2')).toBe(true);
    expect(
      report.skipped.filter((s) => s.cameras[1] === 'cam3').every((s) => s.reason === 'tf_missing_frame'),
    ).toBe(true);
    expect(report.skipped.find((s) => s.reason === 'tf_missing_frame')?.message).toMatch(
      /'cam3_optical_frame' is not in the tf tree/,
    );
    expect(report.skipped.find((s) => s.reason === 'tf_extrapolation')?.message).toMatch(
      /extrapolation into the future of world -> cam2_optical_frame/,
    );
    expect(report.counts.tf.missingFrames).toEqual(['cam3_optical_frame']);
    await expect(readFile(join(out, 'predictions.mcap'))).rejects.toThrow(/ENOENT/);
    const html = await readFile(join(out, 'report.html'), 'utf8');
    expect(html).toContain('Skipped pairs');

    const limited = join(dir, 'limited');
    const run = await runCli(
      [
        'eval',
        '--bag',
        bag,
        '--config',
        config,
        '--model',
        model,
        '--out',
        limited,
        '--limit',
        '3',
        '--no-progress',
      ],
      { cwd: dir },
    );
    expect(run.code).toBe(0);
    expect(run.stderr).not.toMatch(/eval: replaying/);
    const small = await readReport(limited);
    expect(small.counts.estimated).toBe(3);
    expect(small.bag.limited).toBe(true);
    expect(small.bag.messagesReplayed).toBeLessThan(report.bag.messagesReplayed);
  });

  it('bad input: exit codes and messages that name the problem', async () => {
    const text = join(dir, 'notes.txt');
    await writeFile(text, 'not a bag');
    const noTf = join(dir, 'no-tf.mcap');
    await writeRigBag(noTf, {
      steps: 1,
      cameras: [
        { name: 'cam1', view: 1, tfSteps: [] },
        { name: 'cam2', view: 2, tfSteps: [] },
      ],
    });
    const config = join(dir, 'rig2.yaml');
    await writeRigConfig(config, ['cam1', 'cam2'], [['cam1', 'cam2']]);
    const wrongTopics = join(dir, 'wrong.yaml');
    await writeFile(
      wrongTopics,
      (await readFile(config, 'utf8')).replace('/cam2/image_raw', '/cam9/image_raw'),
    );
    // A robot's params file names a model folder of the robot; --model replaces it here.
    const robotConfig = join(dir, 'robot.yaml');
    await writeFile(
      robotConfig,
      (await readFile(config, 'utf8')).replace(
        '    model:\n',
        '    model:\n      path: /opt/robot/models/actial\n',
      ),
    );
    const [robot, notModel] = await Promise.all([
      runCli(['eval', '--bag', noTf, '--config', robotConfig, '--model', model], { cwd: dir }),
      runCli(['eval', '--bag', noTf, '--config', config, '--model', dir], { cwd: dir }),
    ]);
    expect([robot.code, robot.stderr]).toEqual([
      2,
      expect.stringMatching(/has no \/tf or \/tf_static topic/),
    ]);
    expect([notModel.code, notModel.stderr]).toEqual([
      2,
      expect.stringMatching(/cannot load the model in .*: .*config\.json/),
    ]);
    const [missing, noConfig, notBag, tfLess, badTopic, badLimit] = await Promise.all([
      runCli(['eval', '--bag', join(dir, 'nowhere.mcap'), '--config', config], { cwd: dir }),
      runCli(['eval', '--bag', noTf], { cwd: dir }),
      runCli(['eval', '--bag', text, '--config', config, '--model', model], { cwd: dir }),
      runCli(['eval', '--bag', noTf, '--config', config, '--model', model], { cwd: dir }),
      runCli(['eval', '--bag', noTf, '--config', wrongTopics, '--model', model], { cwd: dir }),
      runCli(['eval', '--limit', '0'], { cwd: dir }),
    ]);
    expect([missing.code, missing.stderr]).toEqual([
      2,
      `actial: --bag: '${join(dir, 'nowhere.mcap')}' does not exist\n`,
    ]);
    expect(noConfig.code).toBe(2);
    expect(noConfig.stderr).toMatch(/--config is required with --bag/);
    expect(notBag.code).toBe(2);
    expect(notBag.stderr).toMatch(/notes\.txt: not a bag this tool reads/);
    expect(tfLess.code).toBe(2);
    expect(tfLess.stderr).toMatch(/no-tf\.mcap has no \/tf or \/tf_static topic: there is no ground truth/);
    expect(badTopic.code).toBe(2);
    expect(badTopic.stderr).toMatch(
      /camera cam2: topic \/cam9\/image_raw is not in .*no-tf\.mcap; its topics: \/cam1\/image_raw \(sensor_msgs\/msg\/Image\)/,
    );
    expect(badLimit.code).toBe(2);
    expect(badLimit.stderr).toMatch(/--limit: '0' is not a whole number >= 1/);
  });

  it('a model that loads but cannot run: exit 1 naming the warm-up failure, before any pair', async () => {
    const bag = join(dir, 'warm.mcap');
    const config = join(dir, 'warm.yaml');
    await writeRigBag(bag, {
      steps: 2,
      cameras: [
        { name: 'cam1', view: 1 },
        { name: 'cam2', view: 2 },
      ],
    });
    await writeRigConfig(config, ['cam1', 'cam2'], [['cam1', 'cam2']]);
    const modelConfig = await readFolderJson(model, 'config.json');
    const variant = await variantFolder(model, {
      'config.json': JSON.stringify({
        ...modelConfig,
        text_config: { ...(modelConfig.text_config as object), hidden_size: 32 },
      }),
    });
    try {
      const out = join(dir, 'warm-out');
      const result = await runCli(
        ['eval', '--bag', bag, '--config', config, '--model', variant.dir, '--out', out],
        {
          cwd: dir,
        },
      );
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /model warm-up failed in .*: image features have width 16, the language model 32/,
      );
      expect(existsSync(join(out, 'report.json'))).toBe(false);
    } finally {
      await variant.remove();
    }
  });

  it('a truncated bag: the pairs before the cut are scored and the report says where it ended', async () => {
    const bag = join(dir, 'cut.mcap');
    await writeRigBag(bag, {
      steps: 6,
      cameras: [
        { name: 'cam1', view: 1 },
        { name: 'cam2', view: 2 },
      ],
      writer: { compression: 'none', chunkSize: 4096 },
    });
    await truncate(bag, Math.floor((await stat(bag)).size * 0.6));
    const config = join(dir, 'cut.yaml');
    await writeRigConfig(config, ['cam1', 'cam2'], [['cam1', 'cam2']]);
    const out = join(dir, 'cut');
    const result = await runCli(['eval', '--bag', bag, '--config', config, '--model', model, '--out', out], {
      cwd: dir,
    });
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^warning: .*cut\.mcap: truncated MCAP file: it ends after \d+ bytes/m);
    const report = await readReport(out);
    checkReportConsistency(report);
    expect(report.bag.truncated).toMatch(/truncated MCAP file/);
    expect(report.pairs.length).toBeGreaterThan(0);
    expect(report.pairs.length).toBeLessThan(6);
  });
});

describe('npm start: actial eval without --bag', () => {
  it('scores the bundled sample and writes demo-output/report.{json,html} in the working directory', async () => {
    const cwd = await mkdtemp(join(tmpdir(), 'actial-start-'));
    const result = await runCli(['eval'], { cwd: cwd });
    expect(result.stderr).not.toMatch(/^actial: /m);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/\(bundled sample\)/);
    expect(result.stdout).toMatch(/^accuracy: camera translation [\d.]+%/m);
    expect(result.stdout).toContain(`report: ${join(cwd, 'demo-output', 'report.html')}`);
    const report = await readReport(join(cwd, 'demo-output'));
    checkReportConsistency(report);
    expect(report.bag.sample).toBe(true);
    expect(report.pairs).toHaveLength(36);
    expect(report.config.path).toMatch(/config[\\/]sample\.yaml$/);
    expect(['bundled', 'tiny-fallback']).toContain(report.model.source);
    if (report.model.source === 'tiny-fallback') expect(result.stdout).toMatch(/^note: no bundled model/m);
    expect(await readFile(join(cwd, 'demo-output', 'report.html'), 'utf8')).toContain(
      '<h1>Viewpoint evaluation',
    );
  });
});
