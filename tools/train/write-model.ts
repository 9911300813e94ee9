/**
 * Writes the ONNX model folder from exported weights (see tools/train/README.md).
 * Usage: npx tsx tools/train/write-model.ts --weights DIR --out models/actial-tiny-viewpoint
 */
import { parseArgs } from 'node:util';
import { writeTrainedModel } from '../../src/model/trained/write.js';

const { values } = parseArgs({ options: { weights: { type: 'string' }, out: { type: 'string' } } });
if (!values.weights || !values.out) {
  process.stderr.write('usage: write-model.ts --weights DIR --out DIR\n');
  process.exit(2);
}
const folder = await writeTrainedModel({ weightsDir: values.weights, outDir: values.out });
for (const file of folder.files) process.stderr.write(`${file.path.padEnd(36)} ${file.bytes}\n`);
process.stderr.write(`write-model: ${(folder.totalBytes / 1e6).toFixed(2)} MB in ${folder.dir}\n`);
