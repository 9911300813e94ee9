/**
 * `rclnodejs` for a subprocess running the real node entry point (src/ros/main.ts) without ROS 2:
 * the in-memory stand-in (fake-rclnodejs.ts), plus a driver that plays the rest of the ROS graph.
 * The node's log goes to stderr (`[level] message`). Once the node is active, the driver sends
 * camera frames, then ~/query calls and ~/ask goals one after the other, each as soon as the
 * previous one is answered, so that one is always in flight; it prints JSON lines on stdout:
 * `{"event":"active"}`, `{"event":"sent",...}`, `{"event":"answered",...}`, and at exit
 * `{"event":"exit","sent":n,"answered":n,"rclShutdown":bool}`.
 */
import { imageMessage, NS } from '../helpers/node-frames.js';
import { FakeRcl, type FakeLifecycleNode } from './fake-rclnodejs.js';

const rcl = new FakeRcl();
const printed = new Map<FakeLifecycleNode, number>();
let sent = 0;
let answered = 0;
let driving = false;

function emit(event: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

function flushLogs(): void {
  for (const node of rcl.nodes) {
    const from = printed.get(node) ?? 0;
    for (const entry of node.logs.slice(from)) process.stderr.write(`[${entry.level}] ${entry.message}\n`);
    printed.set(node, node.logs.length);
  }
}

function drive(node: FakeLifecycleNode): void {
  driving = true;
  emit({ event: 'active' });
  for (let k = 0n; k < 3n; k++) {
    for (const subscription of node.subscriptions.filter(
      (s) => !s.destroyed && s.topic.endsWith('image_raw'),
    )) {
      subscription.callback(imageMessage({ stamp: 100n * NS + k * 33_000_000n, seed: Number(k) }));
    }
  }
  const request = (n: number) => ({
    question: `Describe the scene (${n}).`,
    cameras: ['left', 'right'],
    choices: [],
    stamp: { sec: 0, nanosec: 0 },
    max_new_tokens: 24,
    timeout_s: 60,
  });
  const next = (): void => {
    const n = ++sent;
    const service = n % 2 === 1;
    emit({ event: 'sent', n, kind: service ? 'query' : 'ask' });
    const done = (result: { success: boolean; error: string }, status?: string): void => {
      answered += 1;
      emit({
        event: 'answered',
        n,
        kind: service ? 'query' : 'ask',
        success: result.success,
        error: result.error,
        status,
      });
      if (!rcl.module.isShutdown() && node.services.some((s) => !s.destroyed)) next();
    };
    if (service) {
      void node.call('~/query', request(n)).then((response) => done(response));
    } else {
      const server = node.actionServers.find((a) => !a.destroyed);
      if (!server) return;
      void server.sendGoal(request(n)).result.then(
        ({ status, result }) => done(result, status),
        (error: unknown) => done({ success: false, error: String(error) }, 'rejected'),
      );
    }
  };
  next();
}

const poll = setInterval(() => {
  flushLogs();
  const node = rcl.nodes[0];
  if (!driving && node && node.currentState.asMessage().id === 3 && node.services.some((s) => !s.destroyed)) {
    drive(node);
  }
}, 20);
poll.unref();

process.on('exit', () => {
  flushLogs();
  emit({ event: 'exit', sent, answered, rclShutdown: rcl.module.isShutdown() });
});

export default rcl.module;
