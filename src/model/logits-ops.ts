import * as ort from 'onnxruntime-node';
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
const { INT, INTS } = onnx.AttributeProto.AttributeType;
const { FLOAT, DOUBLE, INT64 } = onnx.TensorProto.DataType;

/** A one-input graph over float32 logits [rows, vocab] giving one `elemType` value per row. */
function rowReductionGraph(name: string, nodes: onnxProto.onnx.INodeProto[], elemType: number): Uint8Array {
  const graph = onnx.GraphProto.create({
    name,
    node: nodes,
    input: [
      {
        name: 'logits',
        type: {
          tensorType: { elemType: FLOAT, shape: { dim: [{ dimParam: 'rows' }, { dimParam: 'vocab' }] } },
        },
      },
    ],
    output: [{ name: 'out', type: { tensorType: { elemType, shape: { dim: [{ dimParam: 'rows' }] } } } }],
  });
  const model = onnx.ModelProto.create({ irVersion: 8, opsetImport: [{ domain: '', version: 14 }], graph });
  return onnx.ModelProto.encode(model).finish();
}

/** log(sum(exp(row))) in double precision: Cast, then ReduceLogSumExp over the vocabulary. */
const LOG_SUM_EXP = rowReductionGraph(
  'log_sum_exp_rows',
  [
    onnx.NodeProto.create({
      opType: 'Cast',
      input: ['logits'],
      output: ['logits_double'],
      attribute: [{ name: 'to', type: INT, i: DOUBLE }],
    }),
    onnx.NodeProto.create({
      opType: 'ReduceLogSumExp',
      input: ['logits_double'],
      output: ['out'],
      attribute: [
        { name: 'axes', type: INTS, ints: [1] },
        { name: 'keepdims', type: INT, i: 0 },
      ],
    }),
  ],
  DOUBLE,
);

/** Index of each row's largest logit (the first one on ties). */
const ARG_MAX = rowReductionGraph(
  'arg_max_rows',
  [
    onnx.NodeProto.create({
      opType: 'ArgMax',
      input: ['logits'],
      output: ['out'],
      attribute: [
        { name: 'axis', type: INT, i: 1 },
        { name: 'keepdims', type: INT, i: 0 },
      ],
    }),
  ],
  INT64,
);

/**
 * exp(-64) is 1.6e-28: logits this far below a row's largest add, all of a 152k vocabulary together,
 * less than 1e-22 of the sum; they are left out of it.
 */
const NEGLIGIBLE = -64;

/**
 * log(sum(exp(row))) in double precision over the logits within {@link NEGLIGIBLE} of the row's
 * largest, when at most `candidates.length` come within it of the running maximum (a compact or
 * confident distribution); null when more do, so that the row goes to the vectorised reduction
 * instead. One pass over the row keeps the indices that may matter (a superset: the running
 * maximum only grows), a second sums those. NaN for a row holding NaN.
 */
function sparseLogSumExp(
  logits: Float32Array,
  start: number,
  end: number,
  candidates: Int32Array,
): number | null {
  let max = -Infinity;
  let floor = -Infinity;
  let count = 0;
  const limit = candidates.length;
  for (let i = start; i < end; i++) {
    const v = logits[i] as number;
    if (v > floor) {
      if (count === limit) return null;
      candidates[count++] = i;
      if (v > max) {
        max = v;
        floor = v + NEGLIGIBLE;
      }
    } else if (v !== v) {
      return NaN;
    }
  }
  if (max === -Infinity || max === Infinity) return max;
  let sum = 0;
  for (let k = 0; k < count; k++) {
    const v = logits[candidates[k] as number] as number;
    if (v > floor) sum += Math.exp(v - max);
  }
  return max + Math.log(sum);
}

function checkRows(logits: Float32Array, rows: number): number {
  const vocab = logits.length / rows;
  if (!Number.isInteger(vocab) || vocab <= 0) {
    throw new RangeError(`${logits.length} logits do not split into ${rows} rows`);
  }
  return vocab;
}

/**
 * Reductions over vocabulary-sized logit rows run by onnxruntime (vectorised, about twice as fast
 * as JavaScript loops over a 152k vocabulary): log-sum-exp for full-vocabulary log-probabilities
 * and argmax for greedy decoding.
 */
export class LogitsOps {
  readonly #logSumExp: ort.InferenceSession;
  readonly #argMax: ort.InferenceSession;

  private constructor(logSumExp: ort.InferenceSession, argMax: ort.InferenceSession) {
    this.#logSumExp = logSumExp;
    this.#argMax = argMax;
  }

  static async create(): Promise<LogitsOps> {
    const options: ort.InferenceSession.SessionOptions = {
      executionProviders: ['cpu'],
      extra: { session: { intra_op: { allow_spinning: '0' } } },
    };
    const [logSumExp, argMax] = await Promise.all([
      ort.InferenceSession.create(LOG_SUM_EXP, options),
      ort.InferenceSession.create(ARG_MAX, options),
    ]);
    return new LogitsOps(logSumExp, argMax);
  }

  /**
   * log(sum(exp(row))) of each of the `rows` rows of `logits`, in double precision. Rows where few
   * logits matter (models with a compact vocabulary, confident answers) are summed over those in
   * JavaScript, ten times faster than a pass of exp over the whole vocabulary; others by onnxruntime.
   */
  async logSumExp(logits: Float32Array, rows: number): Promise<Float64Array> {
    const vocab = checkRows(logits, rows);
    const result = new Float64Array(rows);
    const dense: number[] = [];
    const candidates = new Int32Array(Math.max(1, vocab >> 4));
    for (let r = 0; r < rows; r++) {
      const sparse = sparseLogSumExp(logits, r * vocab, (r + 1) * vocab, candidates);
      if (sparse === null) dense.push(r);
      else result[r] = sparse;
    }
    if (dense.length === 0) return result;
    const input = dense.length === rows ? logits : new Float32Array(dense.length * vocab);
    if (input !== logits) {
      dense.forEach((r, i) => input.set(logits.subarray(r * vocab, (r + 1) * vocab), i * vocab));
    }
    const outputs = await this.#logSumExp.run({
      logits: new ort.Tensor('float32', input, [dense.length, vocab]),
    });
    const reduced = (outputs.out as ort.Tensor).data as Float64Array;
    dense.forEach((r, i) => (result[r] = reduced[i] as number));
    return result;
  }

  /** Index of the largest value of one row (the first one on ties). */
  async argmax(logits: Float32Array): Promise<number> {
    const outputs = await this.#argMax.run({ logits: new ort.Tensor('float32', logits, [1, logits.length]) });
    return Number(((outputs.out as ort.Tensor).data as BigInt64Array)[0]);
  }

  async dispose(): Promise<void> {
    await Promise.all([this.#logSumExp.release(), this.#argMax.release()]);
  }
}
