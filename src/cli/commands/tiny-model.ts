import { Option, type Command } from 'commander';
import type { DecoderAttention } from '../../model/tiny/graphs.js';
import { TinyModelSeedError } from '../../model/tiny/weights.js';
import { writeTinyModel } from '../../model/tiny/write.js';
import { CliError, log, printJson } from '../output.js';

function parseSeed(value: string): number {
  const seed = Number(value);
  if (!/^\d+$/.test(value) || seed > 0xffffffff) {
    throw new CliError(`--seed must be an integer in [0, 4294967295], got ${JSON.stringify(value)}`, 2);
  }
  return seed;
}

export function registerTinyModelCommand(program: Command): void {
  program
    .command('tiny-model')
    .description(
      'Write a deterministic tiny random Qwen2.5-VL-layout ONNX model folder (for tests and pipeline checks)',
    )
    .requiredOption('-o, --out <dir>', 'folder to write (created when missing)')
    .option('-s, --seed <n>', 'PRNG seed of the weights', '1')
    .addOption(
      new Option(
        '--attention <kind>',
        'decoder attention: one ONNX Attention node per layer (opset 23), or MatMul/Softmax nodes (opset 14)',
      )
        .choices(['fused', 'explicit'])
        .default('fused'),
    )
    .option('--json', 'print the written files as JSON')
    .action(async (opts: { out: string; seed: string; attention: DecoderAttention; json?: boolean }) => {
      try {
        const folder = await writeTinyModel({
          outDir: opts.out,
          seed: parseSeed(opts.seed),
          attention: opts.attention,
        });
        if (opts.json) printJson(folder);
        else {
          for (const file of folder.files) log(`${file.path.padEnd(34)} ${file.bytes} bytes`);
          log(
            `wrote ${folder.files.length} files, ${folder.totalBytes} bytes, seed ${folder.seed}, to ${folder.dir}`,
          );
        }
      } catch (error) {
        if (error instanceof TinyModelSeedError) throw new CliError(error.message, 2);
        throw error;
      }
    });
}
