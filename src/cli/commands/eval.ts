import { existsSync, readFileSync, statSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Option, type Command } from 'commander';
import { McapBagWriter } from '../../bag/mcap-writer.js';
import { openBag } from '../../bag/open.js';
import { BagFormatError, type BagReader } from '../../bag/reader.js';
import { ConfigError, loadConfigFile } from '../../config/load.js';
import type { NodeConfig } from '../../config/schema.js';
import {
  buildReport,
  createProgressReporter,
  defaultCacheDir,
  ensureSampleBag,
  EvalError,
  evaluateBag,
  renderHtmlReport,
  resolveEvalModel,
  sampleConfigPath,
  summaryLines,
  type ResolvedModel,
} from '../../eval/index.js';
import { packageRoot } from '../../model/bundled.js';
import { engineOptionsFromConfig } from '../../model/engine-options.js';
import { Engine } from '../../model/engine.js';
import { warmUpBackend } from '../../node/warm-up.js';
import { ModelError } from '../../model/errors.js';
import { LABEL_PRESETS, type LabelPreset } from '../../spatial/labels.js';
import { interruptOnSignals } from '../interrupt.js';
import { CliError, log } from '../output.js';

interface EvalOptions {
  bag?: string;
  config?: string;
  out: string;
  model?: string;
  limit?: string;
  labelsPreset: 'object-centric' | 'robot-rig';
  fixedFrame?: string;
  predictions: boolean;
  param: string[];
  progress: boolean;
  progressEvery: string;
}

const PRESETS: Readonly<Record<EvalOptions['labelsPreset'], LabelPreset>> = {
  'object-centric': 'objectCentric',
  'robot-rig': 'robotRig',
};

/** Most core warnings printed after the run (each distinct text once). */
const MAX_WARNINGS = 20;

function parseProgressEvery(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new CliError(`--progress-every: '${value}' is not a number of seconds > 0`, 2);
  }
  return n;
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

function parseLimit(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw new CliError(`--limit: '${value}' is not a whole number >= 1`, 2);
  }
  return n;
}

/** `checkModelPath`: false when `--model` names the model, so the file's `model.path` is not used. */
function loadConfig(path: string, overrides: readonly string[], checkModelPath: boolean): NodeConfig {
  try {
    return loadConfigFile(path, overrides, { checkModelPath });
  } catch (error) {
    if (error instanceof ConfigError) throw new CliError(error.message, 2);
    throw error;
  }
}

async function openOrExplain(path: string): Promise<BagReader> {
  if (!existsSync(path)) throw new CliError(`--bag: '${path}' does not exist`, 2);
  try {
    return await openBag(path);
  } catch (error) {
    if (error instanceof BagFormatError) throw new CliError(error.message, 2);
    throw new CliError(
      `cannot read bag ${path}: ${error instanceof Error ? error.message : String(error)}`,
      1,
    );
  }
}

async function createEngine(config: NodeConfig, model: ResolvedModel): Promise<Engine> {
  if (!existsSync(model.dir) || !statSync(model.dir).isDirectory()) {
    throw new CliError(`--model: '${model.dir}' is not a model folder`, 2);
  }
  let engine: Engine;
  try {
    engine = await Engine.create(engineOptionsFromConfig({ ...config.model, path: model.dir }));
  } catch (error) {
    // A folder that is not a usable model is a bad argument, as in `actial ask` and `viewpoint`.
    if (error instanceof ModelError)
      throw new CliError(`cannot load the model in ${model.dir}: ${error.message}`, 2);
    throw error;
  }
  if (!config.model.warm_up) return engine;
  // As the node does at configure, so that the first pair's latency is not the model's first run.
  try {
    await warmUpBackend(engine, config);
    return engine;
  } catch (error) {
    await engine.dispose();
    throw new CliError(
      `model warm-up failed in ${model.dir}: ${error instanceof Error ? error.message : String(error)}`,
      1,
    );
  }
}

export function registerEvalCommand(program: Command): void {
  program
    .command('eval')
    .description(
      'Replay a bag through the node core and score its viewpoint estimates against ground truth from /tf; without --bag, the bundled sample',
    )
    .option('--bag <path>', 'rosbag2 folder, .mcap or .db3 file (default: the bundled sample bag)')
    .option('--config <file>', 'params file naming the cameras (default without --bag: config/sample.yaml)')
    .option('--out <dir>', 'output folder for report.json, report.html and predictions.mcap', 'demo-output')
    .option('--model <dir>', 'ONNX model folder (default: model.path of the config, else the bundled model)')
    .option('--limit <n>', 'stop after n estimated pairs')
    .addOption(
      new Option('--labels-preset <preset>', 'dead zones of the ground-truth labels')
        .choices(Object.keys(PRESETS))
        .default('object-centric'),
    )
    .option(
      '--fixed-frame <frame>',
      'tf frame fixed in the world, for pairs of frames at different stamps (default: the tf root)',
    )
    .option('--no-predictions', 'do not write predictions.mcap')
    .option('-p, --param <key=value...>', 'override a parameter, as --ros-args -p does', [])
    .option('--no-progress', 'no progress bar or progress lines on stderr')
    .option('--progress-every <seconds>', 'seconds between progress lines when stderr is not a terminal', '5')
    .action(async (opts: EvalOptions) => {
      const limit = parseLimit(opts.limit);
      const progressEvery = parseProgressEvery(opts.progressEvery);
      const interruption = new AbortController();
      const signals = interruptOnSignals(interruption, {
        what: 'actial eval',
        stopping: 'stopping the replay; writing the report of what was replayed',
      });
      try {
        await runEval(opts, limit, progressEvery, interruption.signal);
      } finally {
        signals.release();
      }
    });
}

async function runEval(
  opts: EvalOptions,
  limit: number | undefined,
  progressEvery: number,
  interruption: AbortSignal,
): Promise<void> {
  if (opts.bag !== undefined && opts.config === undefined) {
    throw new CliError(
      '--config is required with --bag: it names the cameras, their topics and optical frames',
      2,
    );
  }
  const configPath = opts.config ?? sampleConfigPath();
  const config = loadConfig(configPath, opts.param, opts.model === undefined);
  const cacheDir = defaultCacheDir();
  let bagPath = opts.bag;
  if (bagPath === undefined) {
    const sample = await ensureSampleBag({ cacheDir });
    bagPath = sample.path;
    if (sample.generated)
      log(`generated the bundled sample bag in ${sample.seconds.toFixed(1)} s: ${bagPath}`);
  }
  const bag = await openOrExplain(bagPath);
  const out = resolve(opts.out);
  let predictions: McapBagWriter | undefined;
  let engine: Engine | undefined;
  const warnings = new Map<string, number>();
  const progress = opts.progress ? createProgressReporter({ plainIntervalS: progressEvery }) : undefined;
  try {
    const model = await resolveEvalModel({ model: opts.model, configPath: config.model.path, cacheDir });
    engine = await createEngine(config, model);
    await mkdir(out, { recursive: true });
    if (opts.predictions) predictions = await McapBagWriter.create(join(out, 'predictions.mcap'));
    const labelOptions = LABEL_PRESETS[PRESETS[opts.labelsPreset]];
    const warn = (message: string): void => {
      warnings.set(message, (warnings.get(message) ?? 0) + 1);
    };
    let result;
    try {
      result = await evaluateBag({
        bag,
        config,
        backend: engine,
        modelName: model.name,
        labels: labelOptions,
        ...(opts.fixedFrame ? { fixedFrame: opts.fixedFrame } : {}),
        ...(limit === undefined ? {} : { limit }),
        ...(predictions ? { predictions } : {}),
        ...(progress ? { onProgress: (p) => progress.update(p) } : {}),
        logger: { warn, error: warn },
        signal: interruption,
      });
    } catch (error) {
      if (error instanceof EvalError || error instanceof BagFormatError) throw new CliError(error.message, 2);
      throw error;
    } finally {
      progress?.stop();
    }
    await predictions?.close();
    const report = buildReport(result, {
      version: version(),
      bagPath: resolve(bagPath),
      storage: bag.storage,
      sample: opts.bag === undefined,
      configPath: resolve(configPath),
      config,
      labelsPreset: opts.labelsPreset,
      labelOptions,
      fixedFrame: opts.fixedFrame ?? null,
      model,
    });
    const jsonPath = join(out, 'report.json');
    const htmlPath = join(out, 'report.html');
    await writeFile(jsonPath, `${JSON.stringify(report, null, 2)}\n`);
    await writeFile(htmlPath, renderHtmlReport(report, result.examples));
    for (const [message, count] of [...warnings].slice(0, MAX_WARNINGS)) {
      log(`warning: ${message}${count > 1 ? ` (x${count})` : ''}`);
    }
    const lines = [...summaryLines(report), `report: ${htmlPath}`, `json: ${jsonPath}`];
    if (predictions) lines.push(`predictions: ${predictions.path}`);
    process.stdout.write(`${lines.join('\n')}\n`);
    // Interrupted: exit 0 with the partial report (the summary says so), whatever it holds.
    if (report.counts.evaluated === 0 && report.bag.interrupted === null) {
      throw new CliError(
        `no pair could be scored (${report.counts.skipped} skipped, ${report.counts.notEstimated.failed} failed); see ${htmlPath}`,
        3,
      );
    }
  } finally {
    progress?.stop();
    await predictions?.close();
    await engine?.dispose();
    await bag.close();
  }
}
