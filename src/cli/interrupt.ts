import { log } from './output.js';

/** Options of {@link interruptOnSignals}. */
export interface InterruptOptions {
  /** Who speaks in the messages, e.g. `actial eval`. */
  readonly what: string;
  /** What the first signal does, e.g. `stopping the replay; writing the report`. */
  readonly stopping: string;
  /** After the first signal, the longest the command may take before it exits anyway (code 1). Default 30 s. */
  readonly deadlineMs?: number;
  /** Where the handlers go. Default: `process`. */
  readonly signals?: Pick<NodeJS.Process, 'on' | 'off'>;
  /** Ends the process. Default: `process.exit`. */
  readonly exit?: (code: number) => void;
  /** Where the messages go. Default: stderr. */
  readonly log?: (message: string) => void;
}

/**
 * SIGINT/SIGTERM during a long command: the first one aborts `controller` with the signal's name
 * (the command stops its work, cancels what runs, writes its outputs and exits 0); a second one, or
 * a command still running `deadlineMs` after the first, exits at once with code 1. `release()`
 * removes the handlers (and the deadline).
 */
export function interruptOnSignals(
  controller: AbortController,
  options: InterruptOptions,
): { release(): void } {
  const signals = options.signals ?? process;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const say = options.log ?? log;
  const deadlineMs = options.deadlineMs ?? 30_000;
  let deadline: ReturnType<typeof setTimeout> | undefined;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (controller.signal.aborted) {
      say(`${options.what}: ${signal} again: exiting without finishing`);
      exit(1);
      return;
    }
    say(`${options.what}: ${signal}: ${options.stopping}`);
    controller.abort(signal);
    deadline = setTimeout(() => {
      say(`${options.what}: not finished ${deadlineMs / 1000} s after ${signal}; exiting`);
      exit(1);
    }, deadlineMs);
    deadline.unref?.();
  };
  signals.on('SIGINT', onSignal);
  signals.on('SIGTERM', onSignal);
  return {
    release: () => {
      signals.off('SIGINT', onSignal);
      signals.off('SIGTERM', onSignal);
      clearTimeout(deadline);
    },
  };
}
