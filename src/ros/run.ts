/**
 * Starting and stopping the ROS node: load rclnodejs (an optional dependency), init it with the
 * process arguments (`--ros-args` remaps, `-p`, `--params-file`), create the node, configure and
 * activate it when `auto_activate` is set, spin, and shut down cleanly on SIGINT/SIGTERM or when the
 * node is finalized through its lifecycle services.
 */
import { ActialRosNode, LifecycleTransitionError, type ActialRosNodeOptions } from './adapter.js';
import type { RclModule } from './rcl-port.js';

/** rclnodejs is installed but unusable (no ROS 2 sourced, wrong version); names the cause. */
export class RclnodejsLoadError extends Error {
  override readonly name = 'RclnodejsLoadError';
}

/** Options of {@link loadRclnodejs}. */
export interface LoadRclnodejsOptions {
  /** Imports the module. Default: `import('rclnodejs')`. */
  readonly importer?: () => Promise<unknown>;
  /** Where rclnodejs registers its SIGINT handler. Default: `process`. */
  readonly signals?: Pick<NodeJS.Process, 'listeners' | 'off'>;
}

/** The message of anything thrown (errors from another realm, e.g. a test VM, included). */
const messageOf = (error: unknown): string => {
  const message = (error as { message?: unknown } | null)?.message;
  return typeof message === 'string' ? message : String(error);
};

/** The import failed because rclnodejs itself is not installed (not one of its dependencies). */
const isMissingModule = (error: unknown): boolean =>
  /Cannot find (module|package) ['"]rclnodejs['"]/.test(messageOf(error));

/**
 * Loads rclnodejs, or returns undefined when it is not installed. Removes the SIGINT handler
 * rclnodejs installs on import (it shuts everything down at once), so that the node can run its
 * lifecycle shutdown first.
 * @throws RclnodejsLoadError when it is installed but does not load (e.g. ROS 2 not sourced) or
 *   lacks the API the node uses.
 */
export async function loadRclnodejs(options: LoadRclnodejsOptions = {}): Promise<RclModule | undefined> {
  const signals = options.signals ?? process;
  const before = new Set(signals.listeners('SIGINT'));
  const specifier = 'rclnodejs';
  let loaded: unknown;
  try {
    loaded = await (options.importer ?? (() => import(specifier)))();
  } catch (error) {
    if (isMissingModule(error)) return undefined;
    throw new RclnodejsLoadError(
      `rclnodejs is installed but does not load: ${messageOf(error)}. ` +
        'Is ROS 2 sourced (source /opt/ros/<distro>/setup.bash) and was `npm ci` run with it sourced?',
    );
  } finally {
    for (const listener of signals.listeners('SIGINT')) {
      if (!before.has(listener)) signals.off('SIGINT', listener as (...args: unknown[]) => void);
    }
  }
  const rcl = ((loaded as { default?: unknown } | null)?.default ?? loaded) as Partial<
    Record<string, unknown>
  >;
  const missing = [
    'init',
    'shutdown',
    'lifecycle',
    'QoS',
    'Parameter',
    'ParameterDescriptor',
    'ActionServer',
  ].filter((name) => rcl[name] === undefined);
  const lifecycle = rcl.lifecycle as { LifecycleNode?: unknown } | undefined;
  if (typeof lifecycle?.LifecycleNode !== 'function') missing.push('lifecycle.LifecycleNode');
  if (missing.length > 0) {
    throw new RclnodejsLoadError(
      `rclnodejs lacks ${missing.join(', ')}: install the version in package.json (npm ci)`,
    );
  }
  return rcl as unknown as RclModule;
}

/** Options of {@link runNode}. */
export interface RunNodeOptions extends Omit<ActialRosNodeOptions, 'rcl'> {
  /** The loaded rclnodejs ({@link loadRclnodejs}). */
  readonly rcl: RclModule;
  /** Command line for rcl (`--ros-args ...`); default `process.argv`. */
  readonly argv?: readonly string[];
  /** Signals that stop the node. Default: `process`. */
  readonly signals?: Pick<NodeJS.Process, 'on' | 'off'>;
  /** Called with the node once it exists (tests). */
  readonly onNode?: (node: ActialRosNode) => void;
  /**
   * After SIGINT/SIGTERM, the longest the lifecycle shutdown (cancelling inference, answering
   * pending requests, closing the model) may take; past it the node exits with code 1. Default 30 s.
   */
  readonly shutdownTimeoutMs?: number;
}

/**
 * Runs the node until SIGINT/SIGTERM or until it is finalized; resolves with the exit code:
 * 0 after a clean shutdown, 1 when a second signal interrupts the shutdown.
 */
export async function runNode(options: RunNodeOptions): Promise<number> {
  const {
    rcl,
    argv = process.argv,
    signals = process,
    onNode,
    shutdownTimeoutMs = 30_000,
    ...nodeOptions
  } = options;
  await rcl.init(undefined, [...argv]);
  const node = await ActialRosNode.create({ ...nodeOptions, rcl });
  onNode?.(node);
  const logger = node.node.getLogger();
  node.node.spin();

  let stopping: Promise<number> | undefined;
  const stop = (why: string): Promise<number> => {
    stopping ??= (async () => {
      logger.info(`${why}: shutting down`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      const deadline = new Promise<'late'>((resolve) => {
        timer = setTimeout(() => resolve('late'), shutdownTimeoutMs);
        timer.unref?.();
      });
      const finished = node.shutdown().then(
        () => 'done' as const,
        (error: unknown) => {
          logger.error(`shutdown: ${error instanceof Error ? error.message : String(error)}`);
          return 'done' as const;
        },
      );
      const outcome = await Promise.race([finished, deadline]);
      clearTimeout(timer);
      if (!rcl.isShutdown()) rcl.shutdown();
      if (outcome === 'late') {
        logger.error(`shutdown did not finish within ${shutdownTimeoutMs / 1000} s; exiting`);
        return 1;
      }
      return 0;
    })();
    return stopping;
  };
  let onSignal: (signal: NodeJS.Signals) => void = () => undefined;
  const done = new Promise<number>((resolve) => {
    onSignal = (signal) => {
      if (stopping) {
        logger.warn(`${signal} again: exiting without finishing the shutdown`);
        resolve(1);
        return;
      }
      void stop(signal).then(resolve);
    };
    void node.finalized.then(() => stop('finalized')).then(resolve);
  });
  signals.on('SIGINT', onSignal);
  signals.on('SIGTERM', onSignal);

  if (node.autoActivate) {
    try {
      await node.configure();
      node.activate();
    } catch (error) {
      if (!(error instanceof LifecycleTransitionError)) throw error;
      if (!stopping) {
        const name = node.node.getFullyQualifiedName();
        logger.error(
          `auto_activate: ${error.message}. The node stays ${node.state}; fix the parameters ` +
            `(ros2 param set ${name} ...) and run \`ros2 lifecycle set ${name} configure\`.`,
        );
      }
    }
  }
  const code = await done;
  signals.off('SIGINT', onSignal);
  signals.off('SIGTERM', onSignal);
  return code;
}
