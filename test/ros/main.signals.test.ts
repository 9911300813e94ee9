/**
 * The ROS node's entry point (src/ros/main.ts) in a real subprocess, on SIGINT and SIGTERM, with
 * the real engine in its worker thread and an in-memory rclnodejs (fake-rclnodejs-process.ts,
 * loaded in place of the package by a module hook: no ROS 2 here). While ~/query calls and ~/ask
 * goals keep one inference in flight, the signal makes the node shut down through its lifecycle:
 * every request sent is answered, the model worker is closed, rcl is shut down, and the process
 * exits 0 within seconds. (With a real ROS 2: test/ros/adapter.ros.test.ts.)
 */
import { repoRoot, startCli, type CliProcess } from '../helpers/cli.js';
import { tinyModelDir } from '../helpers/tiny-model.js';

const register = new URL('./fake-rclnodejs-register.mjs', import.meta.url).href;
/** Seconds from the signal to the exit that the test accepts (measured: about 0.1-0.3 s). */
const EXIT_WITHIN_S = 15;

interface DriverEvent {
  readonly event: string;
  readonly n?: number;
  readonly kind?: string;
  readonly success?: boolean;
  readonly error?: string;
  readonly sent?: number;
  readonly answered?: number;
  readonly rclShutdown?: boolean;
}

const events = (run: { stdout: string }): DriverEvent[] =>
  run.stdout
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as DriverEvent);

async function startNode(): Promise<CliProcess> {
  const model = await tinyModelDir();
  return startCli(
    [
      '--ros-args',
      '-p',
      'cameras:=[left, right]',
      '-p',
      'camera.left.topic:=/left/image_raw',
      '-p',
      'camera.right.topic:=/right/image_raw',
      '-p',
      `model.path:=${model}`,
      '-p',
      'model.max_pixels:=3136',
      '-p',
      'viewpoint.enabled:=false',
    ],
    { script: `${repoRoot}src/ros/main.ts`, nodeArgs: ['--import', register] },
  );
}

describe('src/ros/main.ts on SIGINT/SIGTERM (real subprocess, engine worker, rclnodejs stand-in)', () => {
  // Odd requests are ~/query calls, even ones ~/ask goals: after 3 answers a goal is in flight,
  // after 4 a service call.
  it.each([
    ['SIGINT', 3, 'an ~/ask goal'],
    ['SIGTERM', 4, 'a ~/query call'],
  ] as const)(
    '%s after %i answers (%s in flight): answers every request, closes the model, shuts rcl down, exits 0',
    async (signal, before, _inFlight) => {
      const run = await startNode();
      await run.waitFor(new RegExp(`"event":"answered","n":${before},`), 120_000);
      const sentAt = performance.now();
      run.child.kill(signal);
      const result = await run.exited;
      const seconds = (result.exitedAt - sentAt) / 1000;
      process.stderr.write(
        `ros node ${signal}: exit ${result.code} ${seconds.toFixed(2)} s after the signal\n`,
      );

      expect({ code: result.code, signal: result.signal }).toEqual({ code: 0, signal: null });
      expect(seconds).toBeLessThan(EXIT_WITHIN_S);
      expect(result.stderr).toContain(`[info] ${signal}: shutting down`);
      expect(result.stderr).toContain('[info] shutdown: closing the model');
      expect(result.stderr).not.toMatch(/\[error\]/);
      const all = events(result);
      const exit = all.find((e) => e.event === 'exit');
      expect(exit?.rclShutdown).toBe(true);
      // Every request sent got its answer: those before the signal succeeded, the one in flight
      // (if the signal caught one) failed with the reason.
      expect(exit?.answered).toBe(exit?.sent);
      const answers = all.filter((e) => e.event === 'answered');
      expect(answers.slice(0, before).every((e) => e.success)).toBe(true);
      for (const answer of answers.filter((e) => !e.success)) {
        expect(answer.error).toMatch(/left the active state \(lifecycle shutdown\)|cancelled|shutting down/);
      }
    },
    180_000,
  );
});
