/**
 * Faults around the node core with the real engine in a worker thread: the worker killed in the
 * middle of an inference. (Worker-level crashes, OOM and stuck runs: model/worker/*.failures.test.ts;
 * silent cameras, time jumps and query storms: node-core.streams/queries.test.ts.)
 */
import { reviveModelError } from '../model/engine-client.js';
import { InferenceWorker } from '../model/worker/index.js';
import type { CrashingEngineHandler } from '../model/worker/test-fixtures/crashing-engine-handler.js';
import { imageMessage, nodeTestConfig, NS } from '../../test/helpers/node-frames.js';
import { tinyModelDir } from '../../test/helpers/tiny-model.js';
import { DIAGNOSTIC_LEVEL, ManualClock, SpatialNodeCore, type InferenceBackend } from './index.js';

const crashingEngine = new URL('../model/worker/test-fixtures/crashing-engine-handler.ts', import.meta.url);

/** The node's backend over a worker host, as EngineClient builds it. */
function workerBackend(host: InferenceWorker<CrashingEngineHandler>): InferenceBackend {
  return {
    executionProvider: 'cpu',
    scoreQuestions: ({ signal, ...params }) => host.call('scoreQuestions', params, signal ? { signal } : {}),
    generate: ({ signal, onToken, ...params }) =>
      host.call('ask', params, { ...(signal ? { signal } : {}), ...(onToken ? { onEvent: onToken } : {}) }),
    stats: () => host.stats(),
  };
}

describe('SpatialNodeCore when the engine worker is killed mid-inference', () => {
  it('fails the running query cleanly, restarts the worker, serves the queued queries and reports the restart', async () => {
    const host = await InferenceWorker.create<CrashingEngineHandler>({
      module: crashingEngine,
      name: 'engine',
      init: { modelDir: await tinyModelDir(), intraOpThreads: 1 },
      reviveError: reviveModelError,
    });
    const clock = new ManualClock(10n * NS);
    const core = await SpatialNodeCore.create({
      config: nodeTestConfig(['left', 'right'], { viewpoint: { enabled: false } }),
      backend: workerBackend(host),
      clock,
      nodeName: 'faults',
    });
    try {
      core.start();
      for (const k of [0n, 1n, 2n]) {
        const stamp = 10n * NS + k * 33_000_000n;
        clock.set(stamp);
        core.handleMessage('/left/image_raw', imageMessage({ stamp, seed: Number(k) }));
        core.handleMessage('/right/image_raw', imageMessage({ stamp, seed: Number(k) + 5 }));
      }
      core.diagnostics(); // the window the next report compares with
      await host.call('armCrash', undefined);
      const tokens: number[] = [];
      const killed = core.query(
        { question: 'Describe the scene.', cameras: ['left', 'right'], max_new_tokens: 6 },
        { onFeedback: (f) => tokens.push(f.tokens) },
      );
      const scored = core.query({
        question: 'Which side? A: left B: right',
        cameras: ['left', 'right'],
        choices: ['A', 'B'],
      });
      const generated = core.query({ question: 'What is it?', cameras: ['left'], max_new_tokens: 3 });
      const [first, second, third] = await Promise.all([killed, scored, generated]);

      // The query in flight fails with the reason; it streamed one token before the worker died.
      expect(first).toMatchObject({ success: false });
      expect(first.error).toMatch(/^inference failed: .*worker .*(crash|exit).*exit code 9/i);
      expect(tokens).toEqual([1]);
      // The queued ones run on the restarted worker.
      expect(second).toMatchObject({ success: true, error: '' });
      expect(second.answer.probabilities).toHaveLength(2);
      expect(third).toMatchObject({ success: true, error: '' });

      const stats = core.stats();
      expect(stats.inference).toMatchObject({
        failed: { query: 1 },
        completed: { query: 2 },
        scheduled: { query: 3 },
        pendingQueries: 0,
      });
      expect(stats.inference.backend).toMatchObject({ restarts: 1, state: 'ready' });
      const inference = core.diagnostics().status.find((s) => s.name === 'faults: inference');
      expect(inference?.level).toBe(DIAGNOSTIC_LEVEL.WARN);
      expect(inference?.message).toContain('model host restarted 1 times');
      expect(inference?.values.find((v) => v.key === 'backend_restarts')?.value).toBe('1');
      expect(inference?.values.find((v) => v.key === 'last_error')?.value).toMatch(/exit code 9/);
    } finally {
      await core.close();
      await host.close({ cancel: true });
    }
  }, 120_000);
});
