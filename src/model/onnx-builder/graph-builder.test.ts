/**
 * @jest-environment ./test/helpers/ort-jest-environment.mjs
 */
import * as ort from 'onnxruntime-node';
import { GraphBuilder, GraphBuilderError, readInitializers } from './graph-builder.js';

describe('GraphBuilder', () => {
  it('builds a model onnxruntime runs: y = LeakyRelu(x W + b), with a float attribute', async () => {
    const b = new GraphBuilder('affine');
    const x = b.input('x', 'float32', ['batch', 2]);
    const w = b.initializer('w', Float32Array.from([1, 2, 3, 4]), [2, 2]);
    const bias = b.constFloat([0.5, -10]);
    b.node('LeakyRelu', [b.node('Add', [b.node('MatMul', [x, w]), bias])], {
      attributes: { alpha: { float: 0.25 } },
      output: 'y',
    });
    b.output('y', 'float32', ['batch', 2]);
    const session = await ort.InferenceSession.create(b.toModel());
    expect(session.inputNames).toEqual(['x']);
    expect(session.inputMetadata[0]).toMatchObject({ shape: ['batch', 2] });
    const { y } = await session.run({
      x: new ort.Tensor('float32', Float32Array.from([1, 1, 2, 0]), [2, 2]),
    });
    // [1,1]W = [4,6] + [0.5,-10] = [4.5,-4] -> [4.5,-1]; [2,0]W = [2,4] -> [2.5,-6] -> [2.5,-1.5]
    expect(Array.from(y?.data as Float32Array)).toEqual([4.5, -1, 2.5, -1.5]);
    expect(y?.dims).toEqual([2, 2]);
    await session.release();
  });

  it('runs multi-output nodes and int64 constants', async () => {
    const b = new GraphBuilder('split');
    const x = b.input('x', 'float32', [4]);
    const [first, second] = b.nodeOutputs('Split', [x, b.constInt([1, 3])], 2, { attributes: { axis: 0 } });
    b.node('Identity', [first as string], { output: 'head' });
    b.node('Identity', [second as string], { output: 'tail' });
    b.output('head', 'float32', [1]);
    b.output('tail', 'float32', [3]);
    const session = await ort.InferenceSession.create(b.toModel({ opsetVersion: 14 }));
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4]), [4]) });
    expect(Array.from(out.head?.data as Float32Array)).toEqual([1]);
    expect(Array.from(out.tail?.data as Float32Array)).toEqual([2, 3, 4]);
    await session.release();
  });

  it('names every output of a multi-output node with output and moreOutputs', async () => {
    const b = new GraphBuilder('split_named');
    const x = b.input('x', 'float32', [5]);
    const outputs = b.nodeOutputs('Split', [x, b.constInt([1, 2, 2])], 3, {
      attributes: { axis: 0 },
      output: 'part.0',
      moreOutputs: ['part.1'],
    });
    expect(outputs).toEqual(['part.0', 'part.1', 'part.0:2']);
    for (const [i, name] of outputs.entries()) b.output(name, 'float32', [i === 0 ? 1 : 2]);
    expect(() => b.node('Identity', [x], { output: 'part.1' })).toThrow(GraphBuilderError);
    const session = await ort.InferenceSession.create(b.toModel({ opsetVersion: 14 }));
    const out = await session.run({ x: new ort.Tensor('float32', Float32Array.from([1, 2, 3, 4, 5]), [5]) });
    expect(Array.from(out['part.1']?.data as Float32Array)).toEqual([2, 3]);
    expect(Array.from(out['part.0:2']?.data as Float32Array)).toEqual([4, 5]);
    await session.release();
  });

  it('round-trips initializers through the serialised model', () => {
    const b = new GraphBuilder('weights');
    const x = b.input('x', 'float32', [3]);
    b.initializer('f', Float32Array.from([1.5, -2, 3.25]), [3]);
    b.initializer('i', BigInt64Array.from([7n, -8n]), [2]);
    b.node('Identity', [x], { output: 'y' });
    b.output('y', 'float32', [3]);
    const stored = readInitializers(b.toModel());
    expect(stored.get('f')).toEqual({ dims: [3], data: Float32Array.from([1.5, -2, 3.25]) });
    expect(stored.get('i')).toEqual({ dims: [2], data: BigInt64Array.from([7n, -8n]) });
  });

  it('is deterministic: the same graph gives the same bytes', () => {
    const build = (): Uint8Array => {
      const b = new GraphBuilder('g');
      const x = b.input('x', 'float32', ['n']);
      b.node('Neg', [x], { output: 'y' });
      b.output('y', 'float32', ['n']);
      return b.toModel();
    };
    expect(Buffer.from(build()).equals(Buffer.from(build()))).toBe(true);
  });

  const misuse: { name: string; act: (b: GraphBuilder) => unknown; message: RegExp }[] = [
    {
      name: 'an undefined input value',
      act: (b) => b.node('Neg', ['nope']),
      message: /value nope is not defined/,
    },
    {
      name: 'an undefined output value',
      act: (b) => b.output('nope', 'float32', [1]),
      message: /value nope is not defined/,
    },
    {
      name: 'a name defined twice',
      act: (b) => b.input('x', 'float32', [1]),
      message: /value x is defined twice/,
    },
    {
      name: 'initializer data of the wrong size',
      act: (b) => b.initializer('w', new Float32Array(5), [2, 3]),
      message: /initializer w: 5 values for dims \[2, 3\]/,
    },
    {
      name: 'a non-integer int attribute',
      act: (b) => b.node('Softmax', ['x'], { attributes: { axis: 0.5 } }),
      message: /attribute axis: 0.5 is not an integer/,
    },
    {
      name: 'a non-integer in an ints attribute',
      act: (b) => b.node('Transpose', ['x'], { attributes: { perm: [0, 1.5] } }),
      message: /attribute perm: 1.5 is not an integer/,
    },
  ];
  it.each(misuse)('rejects $name with a GraphBuilderError naming it', ({ act, message }) => {
    const b = new GraphBuilder('bad');
    b.input('x', 'float32', [1]);
    expect(() => act(b)).toThrow(GraphBuilderError);
    expect(() => act(b)).toThrow(message);
  });
});
