import { Option, type Command } from 'commander';
import { modelSchema } from '../../config/schema.js';
import { ACTIAL_SYSTEM_PROMPT, parseModelAnswer, type AnswerFormat } from '../../spatial/index.js';
import { ModelError } from '../../model/errors.js';
import {
  addModelOptions,
  loadImages,
  numberOption,
  openEngine,
  pixelLimits,
  type ModelCliOptions,
} from '../model-input.js';
import { CliError, log, printJson } from '../output.js';

interface AskOptions extends ModelCliOptions {
  image: string[];
  question: string;
  choice: string[];
  system?: string;
  answerFormat: AnswerFormat;
  answerPrefix?: string;
  maxNewTokens: string;
  temperature: string;
  topK: string;
  topP: string;
  seed?: string;
  json?: boolean;
}

const modelDefaults = modelSchema.parse({});

async function ask(opts: AskOptions): Promise<void> {
  const maxNewTokens = numberOption('--max-new-tokens', opts.maxNewTokens, { integer: true, min: 1 });
  const limits = pixelLimits(opts);
  const sampling = {
    temperature: numberOption('--temperature', opts.temperature, { min: 0 }),
    topK: numberOption('--top-k', opts.topK, { integer: true, min: 0 }),
    topP: numberOption('--top-p', opts.topP),
    ...(opts.seed === undefined
      ? {}
      : { seed: numberOption('--seed', opts.seed, { integer: true, min: 0 }) }),
  };
  const actial = opts.answerFormat === 'actial';
  const system = opts.system ?? (actial ? ACTIAL_SYSTEM_PROMPT : undefined);
  const answerPrefix = opts.answerPrefix ?? (actial ? '<answer>' : '');

  const images = await loadImages(opts.image, limits);
  const engine = await openEngine(opts);
  try {
    const result = await engine.ask({
      images,
      system,
      question: opts.question,
      maxNewTokens,
      ...sampling,
      ...(opts.choice.length > 0 ? { choices: { choices: opts.choice, answerPrefix } } : {}),
      ...(opts.json ? {} : { onToken: ({ text }: { text: string }) => process.stdout.write(text) }),
    });
    const { answer, reasoning } = parseModelAnswer(result.text, opts.answerFormat);
    const scores = result.scores;
    if (opts.json) {
      printJson({
        prompt: result.prompt,
        text: result.text,
        answer,
        reasoning,
        ...(scores
          ? { choices: scores.choices, probabilities: scores.probabilities, choiceIndex: scores.choiceIndex }
          : {}),
        timings: result.timings,
      });
      return;
    }
    process.stdout.write('\n');
    log(`answer: ${answer}`);
    if (scores) {
      for (const [i, choice] of scores.choices.entries()) {
        const mark = i === scores.choiceIndex ? '*' : ' ';
        log(`${mark} ${((scores.probabilities[i] as number) * 100).toFixed(1).padStart(5)}%  ${choice}`);
      }
    }
    const t = result.timings;
    log(
      `${t.promptTokens} prompt tokens, ${t.newTokens} new; vision ${t.visionMs.toFixed(0)} ms, prefill ${t.prefillMs.toFixed(0)} ms, decode ${t.decodeMs.toFixed(0)} ms, total ${t.totalMs.toFixed(0)} ms`,
    );
  } catch (error) {
    if (error instanceof ModelError) throw new CliError(error.message, 2);
    throw error;
  } finally {
    await engine.dispose();
  }
}

export function registerAskCommand(program: Command): void {
  const command = program
    .command('ask')
    .description(
      'Ask the model a question about images: generate an answer, and score answer choices if given',
    )
    .requiredOption('--image <file...>', 'PNG or JPEG image; repeat for several, in prompt order')
    .requiredOption('--question <text>', 'the question (the images come before it)')
    .option('--choice <text...>', 'an answer choice to score; repeat for several', [])
    .option(
      '--system <text>',
      'system prompt (default: the Actial prompt for --answer-format actial, none for plain)',
    )
    .addOption(
      new Option(
        '--answer-format <format>',
        'actial: <think>/<answer> tags; plain: the whole text is the answer',
      )
        .choices(['actial', 'plain'])
        .default('actial'),
    )
    .option(
      '--answer-prefix <text>',
      "text before each scored choice (default '<answer>' for actial, '' for plain)",
    )
    .option('--max-new-tokens <n>', 'most tokens to generate', String(modelDefaults.max_new_tokens))
    .option('--temperature <t>', '0 = greedy', '0')
    .option('--top-k <k>', '0 = all tokens', '0')
    .option('--top-p <p>', '1 = all tokens', '1')
    .option('--seed <n>', 'sampling seed')
    .option('--json', 'print one JSON object (prompt, text, answer, reasoning, choices, timings) on stdout');
  addModelOptions(command).action(ask);
}
