/**
 * `actial eval` interrupted by SIGINT or SIGTERM in the middle of a replay (real subprocess, real
 * model): it stops reading the bag, cancels the pair in flight, writes report.json, report.html and
 * a complete predictions.mcap of what was replayed, and exits 0 within a few seconds.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startCli } from '../../../test/helpers/cli.js';
import { writeRigBag, writeRigConfig } from '../../../test/helpers/bag-synth.js';
import { tinyModelDir } from '../../../test/helpers/tiny-model.js';
import { openBag } from '../../bag/open.js';
import type { EvalReport } from '../../eval/report.js';

const STEPS = 400;
/** Seconds from the signal to the exit that the test accepts (measured: well under 2 s). */
const EXIT_WITHIN_S = 15;

let dir: string;
let model: string;
let bag: string;
let config: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'actial-eval-signals-'));
  model = await tinyModelDir();
  bag = join(dir, 'long.mcap');
  config = join(dir, 'long.yaml');
  await writeRigBag(bag, {
    steps: STEPS,
    cameras: [
      { name: 'cam1', view: 1 },
      { name: 'cam2', view: 2 },
    ],
  });
  await writeRigConfig(config, ['cam1', 'cam2'], [['cam1', 'cam2']]);
}, 120_000);

function evalArgs(out: string): string[] {
  return [
    'eval',
    '--bag',
    bag,
    '--config',
    config,
    '--model',
    model,
    '--out',
    out,
    '--progress-every',
    '0.2',
  ];
}

describe('actial eval on SIGINT/SIGTERM (real subprocess)', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)(
    '%s mid-replay: stops, writes the report and predictions of what was replayed, exits 0',
    async (signal) => {
      const out = join(dir, `out-${signal}`);
      const run = startCli(evalArgs(out), { cwd: dir });
      // Progress lines come every 0.2 s; wait until some pairs are scored.
      await run.waitFor(/eval: replaying \d+\/\d+ \(\d+%\) messages, (?:[3-9]|\d\d+) pairs scored/);
      const sentAt = performance.now();
      run.child.kill(signal);
      const result = await run.exited;
      const seconds = (result.exitedAt - sentAt) / 1000;
      process.stderr.write(`eval ${signal}: exit ${result.code} ${seconds.toFixed(2)} s after the signal\n`);

      expect({ code: result.code, signal: result.signal }).toEqual({ code: 0, signal: null });
      expect(seconds).toBeLessThan(EXIT_WITHIN_S);
      expect(result.stderr).toContain(`actial eval: ${signal}: stopping the replay; writing the report`);
      expect(result.stdout).toMatch(
        new RegExp(
          `^warning: interrupted by ${signal}: the report covers the \\d+ messages replayed before it$`,
          'm',
        ),
      );

      const report = JSON.parse(await readFile(join(out, 'report.json'), 'utf8')) as EvalReport;
      expect(report.bag.interrupted).toBe(signal);
      expect(report.pairs.length).toBeGreaterThanOrEqual(3);
      expect(report.pairs.length).toBeLessThan(STEPS);
      expect(report.counts.evaluated).toBe(report.pairs.length);
      expect(report.accuracy.egoTranslation.total).toBe(report.pairs.length);
      expect(await readFile(join(out, 'report.html'), 'utf8')).toContain(`Interrupted by ${signal}`);

      // predictions.mcap was closed properly: indexed, and it holds one estimate per scored pair.
      const predictions = await openBag(join(out, 'predictions.mcap'));
      const counts = new Map<string, number>();
      for await (const m of predictions.messages()) counts.set(m.topic, (counts.get(m.topic) ?? 0) + 1);
      await predictions.close();
      expect(counts.get('/actial/viewpoint')).toBe(report.pairs.length);
      expect(counts.get('/actial/ground_truth')).toBe(report.pairs.length);
      expect(counts.get('/diagnostics')).toBeGreaterThan(0);
    },
    180_000,
  );
});
