// Worker-thread entry of ImagePreparePool (prepare-pool.ts): decodes and preprocesses images.
import { serveHandler, withTransfer, type TransferResult } from '../model/worker/index.js';
import type { ModelImage } from './types.js';
import { prepareImage, type ImageSource, type PrepareOptions } from './prepare.js';

/** The parameters of `prepare`: an image message whose `data` owns its buffer, and the options. */
export interface PrepareRequest {
  readonly source: ImageSource;
  readonly options: PrepareOptions;
}

/** The handler served in each worker thread of the pool. */
export interface PrepareHandler {
  prepare(request: PrepareRequest): Promise<ModelImage | TransferResult<ModelImage>>;
}

/** What the pool passes to each thread at start. */
export interface PrepareWorkerInit {
  /** Prepare a few synthetic frames first, so that the first real ones run compiled code. */
  readonly warmUp: boolean;
}

/** A 640x480 rgb8 gradient, resized into a 448x448 budget as a robot camera's frames are. */
async function warmUp(): Promise<void> {
  const width = 640;
  const height = 480;
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = (i * 7 + (i >> 11)) & 255;
  const message = { width, height, encoding: 'rgb8', is_bigendian: 0, step: width * 3, data };
  for (let i = 0; i < 8; i++) {
    await prepareImage({ kind: 'raw', message }, { maxPixels: 448 * 448, minPixels: 3136 });
  }
}

async function createPrepareHandler(init: unknown): Promise<PrepareHandler> {
  if ((init as Partial<PrepareWorkerInit> | undefined)?.warmUp === true) await warmUp();
  return {
    async prepare({ source, options }) {
      const image = await prepareImage(source, options);
      // Shared memory crosses without a copy anyway; an ordinary buffer moves instead of being cloned.
      const buffer = image.pixelValues.buffer;
      return buffer instanceof SharedArrayBuffer ? image : withTransfer(image, [buffer]);
    },
  };
}

serveHandler(createPrepareHandler);
