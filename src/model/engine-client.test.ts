import { preprocess } from '../image/preprocess.js';
import type { ModelImage, RgbImage } from '../image/types.js';
import { tinyModelDir } from '../../test/helpers/tiny-model.js';
import { Engine } from './engine.js';
import { EngineClient } from './engine-client.js';

function gradient(width: number, height: number, phase: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = (x * 7 + phase) & 255;
      data[i + 1] = (y * 5 + phase * 3) & 255;
      data[i + 2] = ((x + y) * 3 + phase * 7) & 255;
    }
  }
  return { width, height, data };
}

describe('EngineClient (engine in a worker thread)', () => {
  let modelDir: string;
  let client: EngineClient;
  let engine: Engine;
  let images: ModelImage[];

  beforeAll(async () => {
    modelDir = await tinyModelDir(1);
    images = await Promise.all(
      [gradient(112, 84, 1), gradient(112, 84, 40)].map((im) =>
        preprocess(im, { maxPixels: 112 * 112, minPixels: 3136 }),
      ),
    );
    [client, engine] = await Promise.all([EngineClient.create({ modelDir }), Engine.create({ modelDir })]);
  });

  afterAll(async () => {
    await client?.dispose();
    await engine?.dispose();
  });

  it('reports the execution provider and the files of the model it loaded', () => {
    expect(client.executionProvider).toBe('cpu');
    expect(client.description.modelDir).toBe(engine.folder.dir);
    expect(client.modelFiles).toBe(
      'onnx/vision_encoder.onnx (fp32), onnx/embed_tokens.onnx (fp32), onnx/decoder_model_merged.onnx (fp32)',
    );
  });

  it('scores questions exactly as the in-process engine does', async () => {
    const request = {
      images: images.map((image, i) => ({ image, key: `cam${i}@1` })),
      questions: [
        { question: 'Which way? A: left B: right C: none', choices: ['A', 'B', 'C'] },
        { question: 'Did it rotate? A: no B: yes', choices: ['A', 'B'] },
      ],
    };
    const [remote, local] = await Promise.all([
      client.scoreQuestions(request),
      engine.scoreQuestions(request),
    ]);
    expect(remote.results.map((r) => r.probabilities)).toEqual(local.results.map((r) => r.probabilities));
  });

  it('sends pixels unkeyed, twice, through shared memory and leaves the caller arrays as they were', async () => {
    const before = images.map((image) => Float32Array.from(image.pixelValues));
    const request = {
      images: [...images].reverse().map((image) => ({ image })),
      questions: [{ question: 'Which way? A: left B: right', choices: ['A', 'B'] }],
    };
    const local = await engine.scoreQuestions(request);
    for (let round = 0; round < 2; round++) {
      const remote = await client.scoreQuestions(request);
      expect(remote.results.map((r) => r.probabilities)).toEqual(local.results.map((r) => r.probabilities));
    }
    images.forEach((image, i) => {
      expect(image.pixelValues.buffer).toBeInstanceOf(ArrayBuffer);
      expect(image.pixelValues).toEqual(before[i]);
    });
  });

  it('streams generated tokens through onToken, in order, before the result', async () => {
    const pieces: number[] = [];
    const result = await client.generate({
      images: images.map((image) => ({ image })),
      question: 'Describe the scene.',
      maxNewTokens: 6,
      onToken: (piece) => pieces.push(piece.tokenId),
    });
    expect(pieces.length).toBeGreaterThan(0);
    expect(pieces).toEqual(result.tokenIds);
  });

  it('cancels a generation through its AbortSignal', async () => {
    const controller = new AbortController();
    let seen = 0;
    const pending = client.generate({
      images: images.map((image) => ({ image })),
      question: 'Describe the scene at length.',
      maxNewTokens: 500,
      onToken: () => {
        seen += 1;
        if (seen === 3) controller.abort();
      },
      signal: controller.signal,
    });
    await expect(pending).rejects.toThrow();
    expect(seen).toBeLessThan(10);
    const after = await client.scoreQuestions({
      images: images.map((image) => ({ image })),
      questions: [{ question: 'Still alive? A: yes B: no', choices: ['A', 'B'] }],
    });
    expect(after.results).toHaveLength(1);
  });

  it('rejects a missing model folder with the model layer error naming the file', async () => {
    const failure = EngineClient.create({ modelDir: '/nonexistent/model' });
    await expect(failure).rejects.toThrow(/ModelFolderError: .*nonexistent\/model/);
  });

  it('revives model errors thrown in the worker as their own classes', async () => {
    const request = {
      images: images.map((image) => ({ image })),
      questions: [{ question: 'Pick one', choices: ['A', 'A'] }],
    };
    await expect(client.scoreQuestions(request)).rejects.toThrow(/given twice/);
    await expect(client.scoreQuestions(request)).rejects.toMatchObject({ name: 'ChoiceError', choice: 'A' });
  });
});
