import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
type NodeProto = onnxProto.onnx.INodeProto;
type TensorProto = onnxProto.onnx.ITensorProto;
type ValueInfoProto = onnxProto.onnx.IValueInfoProto;
type AttributeProto = onnxProto.onnx.IAttributeProto;

/** Element types the builder can declare for inputs, outputs and initializers. */
export type ElementType = 'float32' | 'int64' | 'bool';

/** A tensor dimension: a fixed size, or the name of a symbolic (dynamic) dimension. */
export type Dim = number | string;

/** A float attribute; plain numbers are int attributes. */
export interface FloatAttribute {
  readonly float: number;
}

/** Node attribute values: integer, integer list, string, or `{ float }`. */
export type AttributeValue = number | readonly number[] | string | FloatAttribute;

/** Options for one node. */
export interface NodeOptions {
  /** Node attributes, by ONNX attribute name. */
  readonly attributes?: Readonly<Record<string, AttributeValue>>;
  /** Name of the (first) output value; a unique name is made up when absent. */
  readonly output?: string;
  /** Names of the outputs after the first (`nodeOutputs`); made up where absent. */
  readonly moreOutputs?: readonly string[];
}

/** Options for serialising a graph into a model. */
export interface ModelOptions {
  /** ONNX IR version (onnx-proto targets ONNX 1.10, IR version 8). */
  readonly irVersion?: number;
  /** Default-domain opset version. */
  readonly opsetVersion?: number;
  readonly producerName?: string;
  readonly docString?: string;
}

/** Raised when a graph is assembled inconsistently (unknown value, duplicate name, bad data). */
export class GraphBuilderError extends Error {
  override readonly name = 'GraphBuilderError';
}

/** An initializer as stored in a model file. */
export interface StoredTensor {
  readonly dims: readonly number[];
  readonly data: Float32Array | BigInt64Array;
}

/** ONNX TensorProto.DataType codes, e.g. for Cast's `to` attribute. */
export const ELEMENT_TYPES: Readonly<Record<ElementType, number>> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
  bool: onnx.TensorProto.DataType.BOOL,
};

function bytesOf(data: Float32Array | BigInt64Array): Uint8Array {
  // ONNX raw_data is little-endian; copy so the proto owns its bytes.
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength).slice();
}

function attributeProto(name: string, value: AttributeValue): AttributeProto {
  const { AttributeType } = onnx.AttributeProto;
  if (typeof value === 'string') {
    return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) };
  }
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) {
      throw new GraphBuilderError(`attribute ${name}: ${value} is not an integer (use { float } for floats)`);
    }
    return { name, type: AttributeType.INT, i: value };
  }
  if ('float' in value) return { name, type: AttributeType.FLOAT, f: value.float };
  for (const v of value) {
    if (!Number.isInteger(v)) throw new GraphBuilderError(`attribute ${name}: ${v} is not an integer`);
  }
  return { name, type: AttributeType.INTS, ints: [...value] };
}

function valueInfo(name: string, elementType: ElementType, dims: readonly Dim[]): ValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: ELEMENT_TYPES[elementType],
        shape: { dim: dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

/**
 * Assembles one ONNX graph node by node. Value names are plain strings; every method that
 * creates a value returns its name, so graphs read as straight-line code.
 */
export class GraphBuilder {
  readonly name: string;
  readonly #nodes: NodeProto[] = [];
  readonly #initializers: TensorProto[] = [];
  readonly #inputs: ValueInfoProto[] = [];
  readonly #outputs: ValueInfoProto[] = [];
  readonly #values = new Set<string>();
  #counter = 0;

  constructor(name: string) {
    this.name = name;
  }

  /** Declares a graph input and returns its name. */
  input(name: string, elementType: ElementType, dims: readonly Dim[]): string {
    this.#define(name);
    this.#inputs.push(valueInfo(name, elementType, dims));
    return name;
  }

  /** Declares an existing value as a graph output. */
  output(name: string, elementType: ElementType, dims: readonly Dim[]): void {
    this.#require(name);
    this.#outputs.push(valueInfo(name, elementType, dims));
  }

  /** Adds a named weight tensor; `data.length` must equal the product of `dims`. */
  initializer(name: string, data: Float32Array | BigInt64Array, dims: readonly number[]): string {
    const size = dims.reduce((a, b) => a * b, 1);
    if (data.length !== size) {
      throw new GraphBuilderError(`initializer ${name}: ${data.length} values for dims [${dims.join(', ')}]`);
    }
    this.#define(name);
    const dataType = data instanceof Float32Array ? ELEMENT_TYPES.float32 : ELEMENT_TYPES.int64;
    this.#initializers.push(
      onnx.TensorProto.create({ name, dims: [...dims], dataType, rawData: bytesOf(data) }),
    );
    return name;
  }

  /** An anonymous float32 constant (scalar when `dims` is empty). */
  constFloat(values: number | readonly number[], dims?: readonly number[]): string {
    const data = Float32Array.from(typeof values === 'number' ? [values] : values);
    return this.initializer(
      this.#fresh('const_f'),
      data,
      dims ?? (typeof values === 'number' ? [] : [data.length]),
    );
  }

  /** An anonymous int64 constant (scalar when a number is given, else a 1-D tensor). */
  constInt(values: number | readonly number[]): string {
    const list = typeof values === 'number' ? [values] : values;
    const data = BigInt64Array.from(list, (v) => BigInt(v));
    return this.initializer(this.#fresh('const_i'), data, typeof values === 'number' ? [] : [data.length]);
  }

  /** Adds a node with one output and returns the output's name. */
  node(opType: string, inputs: readonly string[], options: NodeOptions = {}): string {
    const [output] = this.nodeOutputs(opType, inputs, 1, options);
    return output as string;
  }

  /** Adds a node with `outputCount` outputs and returns their names. */
  nodeOutputs(
    opType: string,
    inputs: readonly string[],
    outputCount: number,
    options: NodeOptions = {},
  ): string[] {
    for (const input of inputs) if (input !== '') this.#require(input);
    const base = options.output ?? this.#fresh(opType);
    const outputs = Array.from({ length: outputCount }, (_, i) =>
      i === 0 ? base : (options.moreOutputs?.[i - 1] ?? `${base}:${i}`),
    );
    for (const output of outputs) this.#define(output);
    const attribute = Object.entries(options.attributes ?? {}).map(([k, v]) => attributeProto(k, v));
    this.#nodes.push({ opType, name: `${base}/${opType}`, input: [...inputs], output: outputs, attribute });
    return outputs;
  }

  /** Serialises the graph into ONNX model bytes. */
  toModel(options: ModelOptions = {}): Uint8Array {
    const graph = onnx.GraphProto.create({
      name: this.name,
      node: this.#nodes,
      initializer: this.#initializers,
      input: this.#inputs,
      output: this.#outputs,
    });
    const model = onnx.ModelProto.create({
      irVersion: options.irVersion ?? 8,
      opsetImport: [{ domain: '', version: options.opsetVersion ?? 14 }],
      producerName: options.producerName ?? 'actial-ros',
      docString: options.docString ?? '',
      graph,
    });
    return onnx.ModelProto.encode(model).finish();
  }

  #fresh(prefix: string): string {
    let name: string;
    do name = `${prefix}_${this.#counter++}`;
    while (this.#values.has(name));
    return name;
  }

  #define(name: string): void {
    if (name === '') throw new GraphBuilderError('empty value name');
    if (this.#values.has(name)) throw new GraphBuilderError(`value ${name} is defined twice`);
    this.#values.add(name);
  }

  #require(name: string): void {
    if (!this.#values.has(name)) throw new GraphBuilderError(`value ${name} is not defined`);
  }
}

/** Reads the float32 and int64 initializers of a serialised model, by name. */
export function readInitializers(modelBytes: Uint8Array): Map<string, StoredTensor> {
  const model = onnx.ModelProto.decode(modelBytes);
  const result = new Map<string, StoredTensor>();
  for (const tensor of model.graph?.initializer ?? []) {
    const name = tensor.name ?? '';
    const dims = (tensor.dims ?? []).map((d) => Number(d));
    // A fresh copy: decoded bytes may be an unaligned view into a shared buffer.
    const raw = new Uint8Array(tensor.rawData ?? new Uint8Array(0));
    let data: Float32Array | BigInt64Array;
    if (tensor.dataType === ELEMENT_TYPES.float32)
      data = new Float32Array(raw.buffer, raw.byteOffset, raw.byteLength / 4);
    else if (tensor.dataType === ELEMENT_TYPES.int64)
      data = new BigInt64Array(raw.buffer, raw.byteOffset, raw.byteLength / 8);
    else throw new GraphBuilderError(`initializer ${name}: unsupported data type ${tensor.dataType}`);
    result.set(name, { dims, data });
  }
  return result;
}
