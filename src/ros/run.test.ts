import { EventEmitter } from 'node:events';
import { FakeCore, fakeBackend } from '../../test/ros/fake-core.js';
import { FakeRcl } from '../../test/ros/fake-rclnodejs.js';
import type { ActialRosNode } from './adapter.js';
import { loadRclnodejs, RclnodejsLoadError, runNode } from './run.js';

const missing = (name: string): Error =>
  Object.assign(new Error(`Cannot find package '${name}' imported from /x/dist/ros/run.js`), {
    code: 'ERR_MODULE_NOT_FOUND',
  });

describe('loadRclnodejs', () => {
  it('is undefined when rclnodejs is not installed (as here)', async () => {
    await expect(loadRclnodejs()).resolves.toBeUndefined();
    await expect(
      loadRclnodejs({ importer: () => Promise.reject(missing('rclnodejs')) }),
    ).resolves.toBeUndefined();
  });

  it('says to source ROS 2 when rclnodejs is installed but does not load', async () => {
    const load = loadRclnodejs({
      importer: () => Promise.reject(new Error('librcl.so: cannot open shared object file')),
    });
    await expect(load).rejects.toThrow(RclnodejsLoadError);
    await expect(
      loadRclnodejs({
        importer: () => Promise.reject(new Error('librcl.so: cannot open shared object file')),
      }),
    ).rejects.toThrow(/does not load: librcl\.so: .*Is ROS 2 sourced/);
    await expect(loadRclnodejs({ importer: () => Promise.reject(missing('bindings')) })).rejects.toThrow(
      RclnodejsLoadError,
    );
  });

  it('returns the default export and removes the SIGINT handler rclnodejs adds on import', async () => {
    const signals = new EventEmitter();
    const ours = (): void => undefined;
    signals.on('SIGINT', ours);
    const rcl = new FakeRcl().module;
    const loaded = await loadRclnodejs({
      signals: signals as unknown as NodeJS.Process,
      importer: () => {
        signals.on('SIGINT', () => undefined); // rclnodejs: shutdownAll on Ctrl+C
        return Promise.resolve({ default: rcl });
      },
    });
    expect(loaded).toBe(rcl);
    expect(signals.listeners('SIGINT')).toEqual([ours]);
  });

  it('refuses a module without the API the node uses', async () => {
    const { ActionServer: _unused, ...partial } = new FakeRcl().module;
    await expect(loadRclnodejs({ importer: () => Promise.resolve({ default: partial }) })).rejects.toThrow(
      'rclnodejs lacks ActionServer: install the version in package.json (npm ci)',
    );
  });
});

describe('runNode', () => {
  const cameraArgs = ['-p', 'cameras:=[left]', '-p', 'camera.left.topic:=/left/image_raw'];

  async function start(args: string[], closeCore?: () => Promise<void>, shutdownTimeoutMs?: number) {
    const rcl = new FakeRcl();
    const signals = new EventEmitter();
    let node!: ActialRosNode;
    const cores: FakeCore[] = [];
    const backends: ReturnType<typeof fakeBackend>[] = [];
    const exit = runNode({
      rcl: rcl.module,
      argv: ['node', 'main.js', '--ros-args', ...args],
      signals: signals as unknown as NodeJS.Process,
      onNode: (n) => (node = n),
      ...(shutdownTimeoutMs === undefined ? {} : { shutdownTimeoutMs }),
      createBackend: () => {
        const backend = fakeBackend();
        backends.push(backend);
        return Promise.resolve(backend);
      },
      createCore: (options) => {
        const core = new FakeCore(options);
        if (closeCore) core.close = closeCore;
        cores.push(core);
        return Promise.resolve(core);
      },
    });
    await new Promise((resolve) => setImmediate(resolve));
    return { rcl, signals, node, exit, cores, backends };
  }

  it('passes the command line to rcl, spins, configures and activates (auto_activate)', async () => {
    const run = await start(cameraArgs);
    expect(run.rcl.argv).toEqual(['node', 'main.js', '--ros-args', ...cameraArgs]);
    expect(run.rcl.node.spinning).toBe(true);
    expect(run.node.state).toBe('active');
    run.signals.emit('SIGINT', 'SIGINT');
    await expect(run.exit).resolves.toBe(0);
  });

  it('SIGTERM shuts down cleanly: finalized, model closed, rcl shut down, exit 0', async () => {
    const run = await start(cameraArgs);
    run.signals.emit('SIGTERM', 'SIGTERM');
    await expect(run.exit).resolves.toBe(0);
    expect(run.node.state).toBe('finalized');
    expect(run.cores[0]?.calls).toEqual(['start', 'stop', 'close']);
    expect(run.backends[0]?.closed).toBe(1);
    expect(run.rcl.module.isShutdown()).toBe(true);
    expect(run.signals.listenerCount('SIGINT') + run.signals.listenerCount('SIGTERM')).toBe(0);
  });

  it('a second signal during the shutdown exits at once with 1', async () => {
    const run = await start(cameraArgs, () => new Promise(() => undefined));
    run.signals.emit('SIGINT', 'SIGINT');
    run.signals.emit('SIGINT', 'SIGINT');
    await expect(run.exit).resolves.toBe(1);
  });

  it('a shutdown that does not finish in shutdownTimeoutMs exits with 1, saying so', async () => {
    const run = await start(cameraArgs, () => new Promise(() => undefined), 50);
    run.signals.emit('SIGTERM', 'SIGTERM');
    await expect(run.exit).resolves.toBe(1);
    expect(run.rcl.node.logs.filter((l) => l.level === 'error').map((l) => l.message)).toEqual([
      'shutdown did not finish within 0.05 s; exiting',
    ]);
    expect(run.rcl.module.isShutdown()).toBe(true);
  });

  it('auto_activate false: stays unconfigured until told; exits once finalized through the lifecycle', async () => {
    const run = await start([...cameraArgs, '-p', 'auto_activate:=false']);
    expect(run.node.state).toBe('unconfigured');
    expect(run.backends).toEqual([]);
    run.rcl.node.shutdown(); // ros2 lifecycle set /actial shutdown
    await expect(run.exit).resolves.toBe(0);
    expect(run.rcl.module.isShutdown()).toBe(true);
  });

  it('invalid parameters with auto_activate: logs the problem and how to retry, and keeps running', async () => {
    const run = await start(['-p', 'cameras:=[left]']);
    expect(run.node.state).toBe('unconfigured');
    const errors = run.rcl.node.logs.filter((l) => l.level === 'error').map((l) => l.message);
    expect(errors.at(-1)).toMatch(
      /^auto_activate: lifecycle configure failed .*camera\.left\.topic.*ros2 lifecycle set \/actial configure`\.$/s,
    );
    run.signals.emit('SIGINT', 'SIGINT');
    await expect(run.exit).resolves.toBe(0);
  });
});
