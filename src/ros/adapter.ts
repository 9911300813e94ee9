/**
 * The ROS 2 node: a rclnodejs lifecycle node around the transport-agnostic node core
 * (src/node/node-core.ts). Thin: parameters in, messages in and out, service and action, timers.
 *
 * Lifecycle (rclnodejs transition callbacks are synchronous, the model loads asynchronously):
 * - configure: reads the parameters into a validated config (invalid: the transition fails with the
 *   problems logged), then loads the model (backend) and builds the core in the background.
 *   {@link ActialRosNode.configure} resolves when that is done; through `ros2 lifecycle set` the node
 *   is `inactive` at once and a failed load takes it back to `unconfigured`, with the error logged.
 * - activate: publishers on; subscriptions, `~/query`, `~/ask` and the diagnostics timer are created
 *   when the model is ready (at once if it is).
 * - deactivate: publishers off; subscriptions, service, action server and timer destroyed; waiting
 *   queries are answered `success=false`.
 * - cleanup / shutdown / error: as deactivate, then the core and the backend are closed.
 */
import { ConfigError, parseConfig } from '../config/load.js';
import type { NodeConfig } from '../config/schema.js';
import type { InferenceBackend } from '../node/backend.js';
import { planConfigUpdate } from '../node/live-config.js';
import { emptySpatialAnswer, type NodeOutput, type SpatialQueryResponse } from '../node/messages.js';
import { SpatialNodeCore, type NodeLogger, type SpatialNodeCoreOptions } from '../node/node-core.js';
import {
  coerceParameterValue,
  configInput,
  isForeignParameter,
  namesInParameters,
  parameterSpecs,
  placeholderValue,
  toRclValue,
  ParameterValueError,
  type ParameterSpec,
  type ParameterValue,
} from './parameters.js';
import {
  cameraQos,
  DIAGNOSTICS_QOS,
  formatQos,
  RESULT_QOS,
  rmwQos,
  TF_QOS,
  TF_STATIC_QOS,
  type QosPolicy,
} from './qos.js';
import {
  ASK_ACTION_TYPE,
  CallbackReturn,
  QUERY_SERVICE_TYPE,
  type PublishedMessages,
  type RclGoalHandle,
  type RclHandles,
  type RclLifecycleNode,
  type RclLifecyclePublisher,
  type RclModule,
  type RclParameter,
  type RclSetParametersResult,
  type SubscribedType,
} from './rcl-port.js';

/** The backend as the node uses it: the core's InferenceBackend, closed on cleanup when it can be. */
export type RosBackend = InferenceBackend & { close?(): Promise<void> | void };

/** The members of the node core the adapter calls (SpatialNodeCore; a fake in tests). */
export type RosCore = Pick<
  SpatialNodeCore,
  'config' | 'start' | 'stop' | 'close' | 'handleMessage' | 'tick' | 'query' | 'updateConfig'
>;

/** Options of {@link ActialRosNode.create}. */
export interface ActialRosNodeOptions {
  /** The rclnodejs module, initialised (`await rcl.init()`). */
  readonly rcl: RclModule;
  /** Loads the model for a configuration (and warms it up). Called on every configure. */
  readonly createBackend: (config: NodeConfig) => Promise<RosBackend>;
  /** Builds the node core. Default: SpatialNodeCore.create. */
  readonly createCore?: (options: SpatialNodeCoreOptions) => Promise<RosCore>;
  /** Node name; `--ros-args -r __node:=<name>` renames it. Default `actial`. */
  readonly nodeName?: string;
  /** Namespace; `-r __ns:=/<ns>` sets it. Default ''. */
  readonly namespace?: string;
  /** Validates the parameters. Default: parseConfig (which also checks that model.path exists). */
  readonly parseConfig?: (params: unknown, source: string) => NodeConfig;
  /** Period of the timer that drives core.tick (diagnostics at diagnostics.rate_hz), ms. Default 100. */
  readonly tickPeriodMs?: number;
}

/** A lifecycle transition that did not reach its goal state; `reason` is what was logged. */
export class LifecycleTransitionError extends Error {
  override readonly name = 'LifecycleTransitionError';
  constructor(
    readonly transition: string,
    readonly state: string,
    readonly reason: string,
  ) {
    super(`lifecycle ${transition} failed (node is ${state}): ${reason}`);
  }
}

interface Loaded {
  readonly config: NodeConfig;
  readonly backend: RosBackend;
  readonly core: RosCore;
}

interface Attached {
  readonly core: RosCore;
  readonly subscriptions: RclHandles['subscription'][];
  readonly service: RclHandles['service'];
  readonly actionServer: RclHandles['actionServer'];
  readonly timer: RclHandles['timer'];
}

type Publishers = { readonly [K in keyof PublishedMessages]: RclLifecyclePublisher<PublishedMessages[K]> };

const OUTPUT_TYPES = {
  '~/viewpoint': 'actial_ros/msg/ViewpointEstimate',
  '~/answer': 'actial_ros/msg/SpatialAnswer',
  '/tf': 'tf2_msgs/msg/TFMessage',
  '/diagnostics': 'diagnostic_msgs/msg/DiagnosticArray',
} as const satisfies Record<NodeOutput['topic'], keyof PublishedMessages>;

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** The actial_ros node: a lifecycle node driving a {@link SpatialNodeCore}. */
export class ActialRosNode {
  /** The rclnodejs lifecycle node. */
  readonly node: RclLifecycleNode;
  readonly #rcl: RclModule;
  readonly #options: ActialRosNodeOptions;
  readonly #logger: ReturnType<RclLifecycleNode['getLogger']>;
  readonly #specs = new Map<string, ParameterSpec>();
  /** Override names that are no parameter of ours (typos): reported as unknown keys at configure. */
  readonly #unknownOverrides = new Map<string, ParameterValue>();
  /** Overrides whose value does not fit their parameter: reported at configure. */
  readonly #overrideProblems = new Map<string, string>();
  #declaring = false;
  #publishers: Publishers | undefined;
  #generation = 0;
  #loading: Promise<void> | undefined;
  #loadFailure: string | undefined;
  /** Why the last activate failed (e.g. a topic name rcl refuses). */
  #activateFailure: string | undefined;
  #loaded: Loaded | undefined;
  #wantActive = false;
  #attached: Attached | undefined;
  #closing: Promise<void> = Promise.resolve();
  readonly #goals = new Map<RclGoalHandle, AbortController>();
  /** Service calls not answered yet: how to cancel each, and how to answer it (once). */
  readonly #calls = new Map<AbortController, (response: SpatialQueryResponse) => void>();
  /** Ask goals running (their execute callbacks). */
  readonly #goalRuns = new Set<Promise<SpatialQueryResponse>>();
  /** Action servers kept until their goals have ended (see #detach). */
  #lingering: Promise<void> = Promise.resolve();
  readonly #finalized: Promise<void>;
  #resolveFinalized: () => void = () => undefined;
  #destroyed = false;

  private constructor(options: ActialRosNodeOptions) {
    this.#rcl = options.rcl;
    this.#options = options;
    this.#finalized = new Promise((resolve) => {
      this.#resolveFinalized = resolve;
    });
    this.node = new options.rcl.lifecycle.LifecycleNode(
      options.nodeName ?? 'actial',
      options.namespace ?? '',
    );
    this.#logger = this.node.getLogger();
    this.node.addPreSetParametersCallback((parameters) => this.#coerceParameters(parameters));
    this.node.addOnSetParametersCallback((parameters) => this.#onSetParameters(parameters));
    this.#declareParameters();
    this.node.registerOnConfigure(() => this.#onConfigure());
    this.node.registerOnActivate(() => this.#onActivate());
    this.node.registerOnDeactivate(() => this.#onDeactivate());
    this.node.registerOnCleanup(() => this.#release('cleanup'));
    this.node.registerOnShutdown(() => this.#release('shutdown'));
    this.node.registerOnError(() => this.#release('error'));
  }

  /**
   * Creates the lifecycle node (unconfigured) and declares its parameters: every config key, with
   * camera.<name>.* for the cameras named by `cameras` (and by overrides), question.<name>.* likewise.
   */
  static create(options: ActialRosNodeOptions): Promise<ActialRosNode> {
    return Promise.resolve(new ActialRosNode(options));
  }

  /** The lifecycle state label: `unconfigured`, `inactive`, `active`, `finalized` (or a transition). */
  get state(): string {
    return this.node.currentState.asMessage().label;
  }

  /** The configuration in force (live updates included); undefined until configured. */
  get config(): NodeConfig | undefined {
    return this.#loaded?.core.config;
  }

  /** The declared parameters, by name. */
  get parameters(): ReadonlyMap<string, ParameterSpec> {
    return this.#specs;
  }

  /** Resolves once the node reached `finalized` (shutdown transition, e.g. `ros2 lifecycle set <node> shutdown`) and closed the model. */
  get finalized(): Promise<void> {
    return this.#finalized;
  }

  /** Whether the `auto_activate` parameter asks to configure and activate at start. */
  get autoActivate(): boolean {
    return this.node.getParameter('auto_activate').value === true;
  }

  /**
   * Configures the node and waits for the model: resolves when the core is ready.
   * @throws LifecycleTransitionError with the reason (invalid parameters, model load failure).
   */
  async configure(): Promise<void> {
    this.#transition('configure', () => this.node.configure());
    if (this.state !== 'inactive') {
      throw new LifecycleTransitionError('configure', this.state, this.#loadFailure ?? 'see the log');
    }
    await this.#loading;
    if (!this.#loaded)
      throw new LifecycleTransitionError('configure', this.state, this.#loadFailure ?? 'see the log');
  }

  /**
   * Activates the node (the subscriptions and servers appear once the model is ready).
   * @throws LifecycleTransitionError when the node does not become active.
   */
  activate(): void {
    this.#activateFailure = undefined;
    this.#transition('activate', () => this.node.activate());
    if (this.state !== 'active') {
      throw new LifecycleTransitionError('activate', this.state, this.#activateFailure ?? 'see the log');
    }
  }

  /** Goes to `finalized` from any state, closes the core and the backend, and destroys the node. Idempotent. */
  async shutdown(): Promise<void> {
    if (this.#destroyed) return;
    const state = this.state;
    if (state !== 'finalized') {
      try {
        this.node.shutdown();
      } catch (error) {
        this.#logger.warn(`lifecycle shutdown from ${state}: ${errorText(error)}`);
        this.#release('shutdown');
      }
    }
    await this.#closing;
    await this.#lingering;
    if (this.#destroyed) return;
    this.#destroyed = true;
    this.node.destroy();
  }

  /** Runs a transition; rclnodejs throws when it is not available from the current state. */
  #transition(name: string, run: () => unknown): void {
    const state = this.state;
    try {
      run();
    } catch (error) {
      throw new LifecycleTransitionError(name, state, errorText(error));
    }
  }

  // ---- parameters ----

  #declareParameters(): void {
    const overrides = new Map(this.node.getParameterOverrides().map((p) => [p.name, p]));
    this.#declaring = true;
    try {
      const lists = parameterSpecs({ cameras: [], questions: [] }).filter(
        (spec) => spec.name === 'cameras' || spec.name === 'questions',
      );
      for (const spec of lists) this.#declare(spec, overrides.get(spec.name));
      const listed = (name: string): string[] => {
        const value = this.#valueOf(name);
        return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
      };
      const mentioned = namesInParameters(overrides.keys());
      const unique = (a: string[], b: string[]): string[] => [...new Set([...a, ...b])];
      const specs = parameterSpecs({
        cameras: unique(listed('cameras'), mentioned.cameras),
        questions: unique(listed('questions'), mentioned.questions),
      });
      for (const spec of specs) this.#declare(spec, overrides.get(spec.name));
      for (const [name, parameter] of overrides) {
        if (this.#specs.has(name) || isForeignParameter(name)) continue;
        this.#unknownOverrides.set(name, this.#plain(parameter.value));
      }
    } finally {
      this.#declaring = false;
    }
  }

  #declare(spec: ParameterSpec, override: RclParameter | undefined): void {
    this.#specs.set(spec.name, spec);
    if (this.node.hasParameter(spec.name)) return;
    let value = spec.defaultValue ?? placeholderValue(spec.type);
    if (override) {
      try {
        value = coerceParameterValue(spec.name, spec.type, override.value, override.type);
      } catch (error) {
        if (!(error instanceof ParameterValueError)) throw error;
        this.#overrideProblems.set(spec.name, `key '${spec.name}': ${error.message}`);
      }
    }
    const rcl = this.#rcl;
    const range =
      spec.range?.kind === 'integer'
        ? new rcl.IntegerRange(spec.range.from, spec.range.to, spec.range.step)
        : spec.range?.kind === 'double'
          ? new rcl.FloatingPointRange(spec.range.from, spec.range.to, spec.range.step)
          : undefined;
    const descriptor = new rcl.ParameterDescriptor(
      spec.name,
      spec.type,
      spec.description,
      spec.readOnly,
      range,
    );
    descriptor.additionalConstraints = spec.additionalConstraints;
    // The override (coerced above) is applied here, so rclnodejs must not apply it again.
    this.node.declareParameter(
      new rcl.Parameter(spec.name, spec.type, toRclValue(spec.type, value)),
      descriptor,
      true,
    );
  }

  #valueOf(name: string): ParameterValue {
    const spec = this.#specs.get(name);
    const parameter = this.node.getParameter(name);
    if (!spec) return this.#plain(parameter.value);
    return coerceParameterValue(name, spec.type, parameter.value, parameter.type);
  }

  /** A parameter value of unknown type, bigints as numbers. */
  #plain(value: unknown): ParameterValue {
    if (typeof value === 'bigint') return Number(value);
    if (Array.isArray(value))
      return value.map((v: unknown) => (typeof v === 'bigint' ? Number(v) : v)) as ParameterValue;
    return value as ParameterValue;
  }

  /** Reads the parameters into a validated config. @throws ConfigError listing every problem. */
  #readConfig(): NodeConfig {
    const source = `the ROS parameters of ${this.node.getFullyQualifiedName()}`;
    const values = new Map<string, ParameterValue>();
    for (const name of this.#specs.keys()) values.set(name, this.#valueOf(name));
    for (const [name, value] of this.#unknownOverrides) values.set(name, value);
    const problems = [...this.#overrideProblems.values()];
    const parse = this.#options.parseConfig ?? ((params, from) => parseConfig(params, { source: from }));
    let config: NodeConfig | undefined;
    try {
      config = parse(configInput([...this.#specs.values()], values), source);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(...error.problems);
    }
    if (problems.length > 0 || !config) throw new ConfigError(source, problems);
    return config;
  }

  /** Pre-set callback: `ros2 param set x 2` for a double parameter sets 2.0 (rclnodejs refuses mismatched types). */
  #coerceParameters(parameters: RclParameter[]): RclParameter[] {
    return parameters.map((parameter) => {
      const spec = this.#specs.get(parameter.name);
      if (!spec || parameter.type === spec.type || parameter.type === 0) return parameter;
      try {
        const value = coerceParameterValue(spec.name, spec.type, parameter.value, parameter.type);
        return new this.#rcl.Parameter(spec.name, spec.type, toRclValue(spec.type, value));
      } catch (error) {
        // rclnodejs refuses it next with a vague reason; say why here.
        this.#logger.warn(`parameter change refused: ${errorText(error)}`);
        return parameter;
      }
    });
  }

  /**
   * Set-parameters callback: live changes go to the core, all or none. A value set successfully
   * replaces a bad `-p` override of that parameter, so its problem no longer fails configure.
   */
  #onSetParameters(parameters: RclParameter[]): RclSetParametersResult {
    if (this.#declaring) return { successful: true, reason: '' };
    const result = this.#applyParameters(parameters);
    if (result.successful) for (const parameter of parameters) this.#overrideProblems.delete(parameter.name);
    return result;
  }

  #applyParameters(parameters: RclParameter[]): RclSetParametersResult {
    const update: Record<string, unknown> = {};
    for (const parameter of parameters) {
      if (isForeignParameter(parameter.name)) continue;
      const spec = this.#specs.get(parameter.name);
      if (!spec) return this.#refuse(`'${parameter.name}' is not a parameter of this node`);
      try {
        update[parameter.name] = coerceParameterValue(spec.name, spec.type, parameter.value, parameter.type);
      } catch (error) {
        return this.#refuse(errorText(error));
      }
    }
    if (Object.keys(update).length === 0) return { successful: true, reason: '' };
    const loaded = this.#loaded;
    if (!loaded) {
      if (this.#loading) {
        return this.#refuse(
          'the node is configuring (loading the model); set parameters once it is inactive or active',
        );
      }
      return { successful: true, reason: '' }; // read at the next configure
    }
    // The core applies what it can; ROS sets all or nothing, so check the whole update first.
    const plan = planConfigUpdate(loaded.core.config, update);
    if (plan.refused.length > 0)
      return this.#refuse(plan.refused.map((r) => `${r.key}: ${r.reason}`).join('; '));
    const result = loaded.core.updateConfig(update);
    if (result.refused.length > 0) {
      return this.#refuse(result.refused.map((r) => `${r.key}: ${r.reason}`).join('; '));
    }
    return { successful: true, reason: '' };
  }

  #refuse(reason: string): RclSetParametersResult {
    this.#logger.warn(`parameter change refused: ${reason}`);
    return { successful: false, reason };
  }

  // ---- lifecycle ----

  #onConfigure(): number {
    let config: NodeConfig;
    try {
      this.#declareParameters(); // camera.<name>.* of cameras named since the last configure
      config = this.#readConfig();
    } catch (error) {
      this.#loadFailure = errorText(error);
      this.#logger.error(`configure failed: ${this.#loadFailure}`);
      return CallbackReturn.FAILURE;
    }
    this.#loadFailure = undefined;
    this.#publishers ??= this.#createPublishers();
    const generation = ++this.#generation;
    this.#loading = this.#load(config, generation).finally(() => {
      if (generation === this.#generation) this.#loading = undefined;
    });
    return CallbackReturn.SUCCESS;
  }

  async #load(config: NodeConfig, generation: number): Promise<void> {
    await this.#closing;
    const current = (): boolean => generation === this.#generation;
    let backend: RosBackend | undefined;
    try {
      const started = Date.now();
      const source = config.model.path || 'the bundled model';
      this.#logger.info(`loading ${source} (${config.model.dtype}, ${config.model.device})`);
      backend = await this.#options.createBackend(config);
      if (!current()) return await closeBackend(backend, this.#logger);
      const core = await (this.#options.createCore ?? SpatialNodeCore.create)({
        config,
        backend,
        onOutput: (output) => this.#publish(output),
        clock: { now: () => this.node.now().nanoseconds },
        logger: this.#coreLogger(),
        nodeName: this.node.name(),
      });
      if (!current()) {
        await core.close();
        return await closeBackend(backend, this.#logger);
      }
      this.#loaded = { config, backend, core };
      const provider = backend.executionProvider ?? 'unknown';
      this.#logger.info(`model ready on ${provider} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      if (backend.fallbackReason) this.#logger.warn(`model runs on ${provider}: ${backend.fallbackReason}`);
    } catch (error) {
      if (backend) await closeBackend(backend, this.#logger);
      if (!current()) return;
      this.#loadFailure = `loading the model failed: ${errorText(error)}`;
      this.#logger.error(`configure failed: ${this.#loadFailure}`);
      // Back to unconfigured, so that the failure shows in the lifecycle state.
      try {
        if (this.state === 'active') this.node.deactivate();
        if (this.state === 'inactive') this.node.cleanup();
      } catch (transitionError) {
        this.#logger.error(`returning to unconfigured: ${errorText(transitionError)}`);
      }
      return;
    }
    if (this.#wantActive) {
      try {
        this.#attach();
      } catch (error) {
        this.#logger.error(`activate failed: ${errorText(error)}`);
        this.node.deactivate();
      }
    }
  }

  #onActivate(): number {
    this.#wantActive = true;
    if (this.#loaded) {
      try {
        this.#attach();
      } catch (error) {
        this.#wantActive = false;
        this.#activateFailure = errorText(error);
        this.#logger.error(`activate failed: ${this.#activateFailure}`);
        this.#detach();
        return CallbackReturn.FAILURE;
      }
    } else {
      this.#logger.info('active: subscriptions, ~/query and ~/ask start once the model is loaded');
    }
    return CallbackReturn.SUCCESS;
  }

  #onDeactivate(): number {
    this.#wantActive = false;
    this.#detach();
    return CallbackReturn.SUCCESS;
  }

  /** cleanup, shutdown and error: stop everything and close the core and the backend. */
  #release(transition: string): number {
    this.#wantActive = false;
    this.#generation += 1; // a load still running is discarded when it ends
    this.#loading = undefined;
    this.#detach(transition);
    const loaded = this.#loaded;
    this.#loaded = undefined;
    if (loaded) {
      this.#logger.info(`${transition}: closing the model`);
      this.#closing = this.#closing.then(async () => {
        try {
          await loaded.core.close();
        } catch (error) {
          this.#logger.error(`closing the node core: ${errorText(error)}`);
        }
        await closeBackend(loaded.backend, this.#logger);
      });
    }
    if (transition === 'shutdown') void this.#closing.then(() => this.#resolveFinalized());
    return CallbackReturn.SUCCESS;
  }

  // ---- communication ----

  #qos(policy: QosPolicy): RclHandles['qos'] {
    const q = rmwQos(policy);
    return new this.#rcl.QoS(q.history, q.depth, q.reliability, q.durability);
  }

  #createPublishers(): Publishers {
    const node = this.node;
    const results = { qos: this.#qos(RESULT_QOS) };
    return {
      'actial_ros/msg/ViewpointEstimate': node.createLifecyclePublisher(
        'actial_ros/msg/ViewpointEstimate',
        '~/viewpoint',
        results,
      ),
      'actial_ros/msg/SpatialAnswer': node.createLifecyclePublisher(
        'actial_ros/msg/SpatialAnswer',
        '~/answer',
        results,
      ),
      'tf2_msgs/msg/TFMessage': node.createLifecyclePublisher('tf2_msgs/msg/TFMessage', '/tf', {
        qos: this.#qos(TF_QOS),
      }),
      'diagnostic_msgs/msg/DiagnosticArray': node.createLifecyclePublisher(
        'diagnostic_msgs/msg/DiagnosticArray',
        '/diagnostics',
        { qos: this.#qos(DIAGNOSTICS_QOS) },
      ),
    };
  }

  #publish(output: NodeOutput): void {
    const publishers = this.#publishers;
    if (!publishers || !this.#attached) return;
    switch (output.topic) {
      case '~/viewpoint':
        return publishers[OUTPUT_TYPES[output.topic]].publish(output.message);
      case '~/answer':
        return publishers[OUTPUT_TYPES[output.topic]].publish(output.message);
      case '/tf':
        return publishers[OUTPUT_TYPES[output.topic]].publish(output.message);
      case '/diagnostics':
        return publishers[OUTPUT_TYPES[output.topic]].publish(output.message);
    }
  }

  #coreLogger(): NodeLogger {
    const logger = this.#logger;
    return {
      debug: (message) => void logger.debug(message),
      info: (message) => void logger.info(message),
      warn: (message) => void logger.warn(message),
      error: (message) => void logger.error(message),
    };
  }

  /** Subscriptions, service, action server and timer for the loaded core (activate). */
  #attach(): void {
    const loaded = this.#loaded;
    if (!loaded || this.#attached) return;
    const { core, config } = loaded;
    const node = this.node;
    const subscriptions: RclHandles['subscription'][] = [];
    const subscribed = new Map<string, SubscribedType>();
    const subscribe = (type: SubscribedType, topic: string, policy: QosPolicy, what: string): void => {
      const previous = subscribed.get(topic);
      if (previous) {
        if (previous !== type)
          this.#logger.warn(`${what}: topic ${topic} is already subscribed as ${previous}; not as ${type}`);
        return;
      }
      subscribed.set(topic, type);
      subscriptions.push(
        node.createSubscription(type, topic, { qos: this.#qos(policy) }, (message) => {
          core.handleMessage(topic, message);
        }),
      );
      this.#logger.debug(`subscribed to ${topic} (${type}, ${formatQos(policy)})`);
    };
    let service: RclHandles['service'] | undefined;
    let actionServer: RclHandles['actionServer'] | undefined;
    core.start();
    try {
      for (const name of config.cameras) {
        const camera = config.camera[name];
        if (!camera) continue; // parseConfig guarantees it
        const qos = cameraQos(camera.qos);
        const type = camera.transport === 'raw' ? 'sensor_msgs/msg/Image' : 'sensor_msgs/msg/CompressedImage';
        subscribe(type, camera.topic, qos, `camera ${name}`);
        if (camera.camera_info_topic) {
          subscribe(
            'sensor_msgs/msg/CameraInfo',
            camera.camera_info_topic,
            qos,
            `camera ${name} camera_info`,
          );
        }
      }
      subscribe('tf2_msgs/msg/TFMessage', '/tf', TF_QOS, 'tf');
      subscribe('tf2_msgs/msg/TFMessage', '/tf_static', TF_STATIC_QOS, 'tf_static');
      const created = node.createService(QUERY_SERVICE_TYPE, '~/query', (request, response) => {
        const controller = new AbortController();
        let answered = false;
        const respond = (result: SpatialQueryResponse): void => {
          if (answered) return;
          answered = true;
          response.send(result);
        };
        this.#calls.set(controller, respond);
        void core
          .query(request, { signal: controller.signal })
          .then(respond) // after a deactivate, #detach has answered it already
          .catch((error: unknown) => this.#logger.error(`~/query: ${errorText(error)}`))
          .finally(() => this.#calls.delete(controller));
      });
      service = created;
      actionServer = new this.#rcl.ActionServer(
        node,
        ASK_ACTION_TYPE,
        '~/ask',
        (goalHandle) => {
          const run = this.#executeGoal(core, goalHandle);
          this.#goalRuns.add(run);
          void run.then(
            () => this.#goalRuns.delete(run),
            () => this.#goalRuns.delete(run),
          );
          return run;
        },
        () => (this.#attached?.core === core ? this.#rcl.GoalResponse.ACCEPT : this.#rcl.GoalResponse.REJECT),
        undefined,
        (goalHandle) => this.#cancelGoal(goalHandle),
      );
      const period = BigInt(Math.round((this.#options.tickPeriodMs ?? 100) * 1e6));
      let tickFailure = '';
      const timer = node.createTimer(period, () => {
        try {
          core.tick(this.node.now().nanoseconds);
        } catch (error) {
          // A throw would leave rclnodejs's executor; say it once per distinct reason instead.
          const reason = errorText(error);
          if (reason !== tickFailure) this.#logger.error(`tick failed: ${reason}`);
          tickFailure = reason;
        }
      });
      this.#attached = { core, subscriptions, service: created, actionServer, timer };
    } catch (error) {
      // e.g. an invalid topic name: undo what was created; activate fails with the reason.
      for (const subscription of subscriptions) node.destroySubscription(subscription);
      if (service !== undefined) node.destroyService(service);
      actionServer?.destroy();
      void core.stop();
      throw error;
    }
    for (const publisher of Object.values(this.#publishers ?? {})) publisher.activate();
    this.#logger.info(
      `active: ${config.cameras.length} camera(s), ${subscriptions.length} subscription(s); ~/query, ~/ask ready`,
    );
  }

  async #executeGoal(core: RosCore, goalHandle: RclGoalHandle): Promise<SpatialQueryResponse> {
    const controller = new AbortController();
    this.#goals.set(goalHandle, controller);
    try {
      const result = await core.query(goalHandle.request, {
        signal: controller.signal,
        onFeedback: (feedback) => goalHandle.publishFeedback(feedback),
      });
      if (result.success) goalHandle.succeed();
      else if (goalHandle.isCancelRequested) goalHandle.canceled();
      else goalHandle.abort();
      return result;
    } finally {
      this.#goals.delete(goalHandle);
    }
  }

  #cancelGoal(goalHandle: RclGoalHandle | undefined): number {
    const controller = goalHandle && this.#goals.get(goalHandle);
    if (!controller) return this.#rcl.CancelResponse.REJECT;
    // rclnodejs marks the goal CANCELING after this returns; abort afterwards so that the
    // goal's end sees the cancel request and reports CANCELED.
    setImmediate(() => controller.abort(new Error('cancelled by the client')));
    return this.#rcl.CancelResponse.ACCEPT;
  }

  /**
   * Undoes {@link #attach} (deactivate, cleanup, shutdown). Service calls still pending are answered
   * at once (success=false, naming the transition) before the service goes; Ask goals running are
   * cancelled, and their action server is destroyed once they have ended, so that their clients
   * get a result.
   */
  #detach(transition = 'deactivate'): void {
    for (const publisher of Object.values(this.#publishers ?? {})) publisher.deactivate();
    const attached = this.#attached;
    if (!attached) return;
    this.#attached = undefined;
    const node = this.node;
    for (const subscription of attached.subscriptions) node.destroySubscription(subscription);
    node.destroyTimer(attached.timer);
    const reason = `the node left the active state (lifecycle ${transition}) before the query was answered`;
    for (const [controller, respond] of this.#calls) {
      respond({ success: false, error: reason, answer: emptySpatialAnswer() });
      controller.abort(new Error(reason));
    }
    this.#calls.clear();
    node.destroyService(attached.service);
    for (const controller of this.#goals.values()) controller.abort(new Error(reason));
    const goals = [...this.#goalRuns];
    if (goals.length === 0) attached.actionServer.destroy();
    else {
      const done = Promise.allSettled(goals).then(() => attached.actionServer.destroy());
      this.#lingering = Promise.all([this.#lingering, done]).then(() => undefined);
    }
    void attached.core
      .stop()
      .catch((error: unknown) => this.#logger.error(`stopping the node core: ${errorText(error)}`));
  }
}

async function closeBackend(
  backend: RosBackend,
  logger: { error: (message: string) => unknown },
): Promise<void> {
  try {
    await backend.close?.();
  } catch (error) {
    logger.error(`closing the model: ${errorText(error)}`);
  }
}
