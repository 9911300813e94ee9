import { EventEmitter } from 'node:events';
import { interruptOnSignals } from './interrupt.js';

function setup(deadlineMs = 60_000) {
  const signals = new EventEmitter();
  const controller = new AbortController();
  const exits: number[] = [];
  const lines: string[] = [];
  const handle = interruptOnSignals(controller, {
    what: 'actial eval',
    stopping: 'stopping the replay',
    deadlineMs,
    signals: signals as unknown as NodeJS.Process,
    exit: (code) => exits.push(code),
    log: (line) => lines.push(line),
  });
  return { signals, controller, exits, lines, handle };
}

describe('interruptOnSignals', () => {
  it.each(['SIGINT', 'SIGTERM'])(
    'the first %s aborts with the signal name and says so; no exit',
    (signal) => {
      const t = setup();
      t.signals.emit(signal, signal);
      expect(t.controller.signal.aborted).toBe(true);
      expect(t.controller.signal.reason).toBe(signal);
      expect(t.lines).toEqual([`actial eval: ${signal}: stopping the replay`]);
      expect(t.exits).toEqual([]);
      t.handle.release();
    },
  );

  it('a second signal exits at once with 1', () => {
    const t = setup();
    t.signals.emit('SIGINT', 'SIGINT');
    t.signals.emit('SIGTERM', 'SIGTERM');
    expect(t.exits).toEqual([1]);
    expect(t.lines.at(-1)).toBe('actial eval: SIGTERM again: exiting without finishing');
    t.handle.release();
  });

  it('exits with 1 when the command is not done within the deadline', async () => {
    const t = setup(20);
    t.signals.emit('SIGINT', 'SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(t.exits).toEqual([1]);
    expect(t.lines.at(-1)).toBe('actial eval: not finished 0.02 s after SIGINT; exiting');
  });

  it('release removes the handlers and the deadline', async () => {
    const t = setup(20);
    t.signals.emit('SIGINT', 'SIGINT');
    t.handle.release();
    expect(t.signals.listenerCount('SIGINT') + t.signals.listenerCount('SIGTERM')).toBe(0);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(t.exits).toEqual([]);
  });
});
