import { Option, type Command } from 'commander';
import { ModelError } from '../../model/errors.js';
import {
  defaultOptionOrders,
  engineOptionScorer,
  estimateViewpoint,
  resolveSystemPrompt,
  type AnswerFormat,
} from '../../spatial/index.js';
import { SpatialError } from '../../spatial/errors.js';
import {
  addModelOptions,
  loadImages,
  numberOption,
  openEngine,
  pixelLimits,
  type ModelCliOptions,
} from '../model-input.js';
import { CliError, log, printJson } from '../output.js';

interface ViewpointCliOptions extends ModelCliOptions {
  image: string[];
  bothDirections?: boolean;
  yaw?: boolean;
  optionOrders: string;
  answerFormat: AnswerFormat;
  system?: string;
  answerPrefix?: string;
  json?: boolean;
}

async function viewpoint(opts: ViewpointCliOptions): Promise<void> {
  if (opts.image.length !== 2) {
    throw new CliError(`--image: give exactly two images (source, then target), got ${opts.image.length}`, 2);
  }
  const limits = pixelLimits(opts);
  const optionOrders = numberOption('--option-orders', opts.optionOrders, { integer: true, min: 1 });
  if (optionOrders > 6) throw new CliError(`--option-orders: '${opts.optionOrders}' is more than 6`, 2);
  const [source, target] = await loadImages(opts.image, limits);
  const engine = await openEngine(opts);
  try {
    const prompt = { answerFormat: opts.answerFormat, system: opts.system ?? '' };
    const answerPrefix = opts.answerPrefix ?? (opts.answerFormat === 'actial' ? '<answer>' : '');
    const estimate = await estimateViewpoint(engineOptionScorer(engine, answerPrefix), source!, target!, {
      optionOrders: defaultOptionOrders(optionOrders),
      bothDirections: opts.bothDirections ?? true,
      yawProbe: opts.yaw ? {} : null,
      system: resolveSystemPrompt(prompt),
    });
    const result = {
      egoTranslation: estimate.egoTranslation,
      egoTranslationProbs: estimate.egoTranslationProbs,
      objectTranslation: estimate.objectTranslation,
      objectTranslationProbs: estimate.objectTranslationProbs,
      yawRotation: estimate.yawRotation,
      yawRotationProbs: estimate.yawRotationProbs,
      yawDegrees: estimate.yawDegrees,
      consistency: estimate.consistency,
      inconsistent: estimate.inconsistent,
      rotation: estimate.rotation,
      model: engine.folder.dir,
      executionProvider: engine.executionProvider,
      timings: estimate.timings,
    };
    if (opts.json) {
      printJson(result);
      return;
    }
    const pct = (p: readonly number[]): string => p.map((x) => `${(x * 100).toFixed(0)}%`).join('/');
    log(`camera moved:  ${result.egoTranslation} (left/none/right ${pct(result.egoTranslationProbs)})`);
    log(`object moved:  ${result.objectTranslation} (left/none/right ${pct(result.objectTranslationProbs)})`);
    log(`camera turned: ${result.yawRotation} (left/none/right ${pct(result.yawRotationProbs)})`);
    if (result.yawDegrees !== null) log(`yaw: ${result.yawDegrees.toFixed(1)} degrees (positive = right)`);
    log(`consistency: ${result.consistency.toFixed(2)}${result.inconsistent ? ' (inconsistent)' : ''}`);
  } catch (error) {
    if (error instanceof ModelError || error instanceof SpatialError) throw new CliError(error.message, 2);
    throw error;
  } finally {
    await engine.dispose();
  }
}

export function registerViewpointCommand(program: Command): void {
  const command = program
    .command('viewpoint')
    .description(
      'Estimate how the camera of the second image moved and turned relative to the first (Actial viewpoint questions)',
    )
    .requiredOption('--image <file...>', 'two PNG/JPEG images: source, then target')
    .option('--both-directions', 'also ask target->source (the default, as in the node)')
    .option('--no-both-directions', 'ask source->target only (half the questions, no reverse consistency)')
    .option('--yaw', 'also estimate the signed yaw angle (multiple choice over angles)')
    .option('--option-orders <n>', 'option orders averaged against letter bias (1-6)', '3')
    .addOption(
      new Option(
        '--answer-format <format>',
        'actial: Actial system prompt, choices after <answer>; plain: none',
      )
        .choices(['actial', 'plain'])
        .default('plain'),
    )
    .option('--system <text>', 'system prompt (default: by answer format)')
    .option(
      '--answer-prefix <text>',
      "text before the scored letter (default '<answer>' for actial, '' for plain)",
    )
    .option('--json', 'print the ViewpointEstimate as one JSON object on stdout');
  addModelOptions(command).action(viewpoint);
}
