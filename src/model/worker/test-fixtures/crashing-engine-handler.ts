/**
 * Worker module for fault tests: the real engine handler (engine-worker.ts), plus `armCrash`, after
 * which the worker thread exits with code 9 in the middle of the next generation, right after its
 * first token (the engine killed mid-inference). A restarted worker starts unarmed.
 */
import { createEngineHandler } from '../../engine-handler.js';
import type { GeneratedPiece } from '../../engine.js';
import { serveHandler, type RequestContext } from '../serve-handler.js';

export async function createCrashingEngineHandler(init: unknown) {
  const handler = await createEngineHandler(init);
  let armed = false;
  return {
    ...handler,
    /** The next generation kills the worker after its first token. */
    async armCrash(): Promise<void> {
      armed = true;
    },
    ask(params: Parameters<typeof handler.ask>[0], context: RequestContext<GeneratedPiece>) {
      return handler.ask(params, {
        signal: context.signal,
        emit: (piece) => {
          context.emit(piece);
          if (armed) process.exit(9);
        },
      });
    },
  };
}

export type CrashingEngineHandler = Awaited<ReturnType<typeof createCrashingEngineHandler>>;

serveHandler(createCrashingEngineHandler);
