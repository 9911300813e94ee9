import { modelSchema, nodeConfigSchema, pairingSchema, type NodeConfig } from '../config/schema.js';

/** The outcome of a parameter update: keys applied, and keys refused with the reason. */
export interface ConfigUpdateResult {
  readonly applied: string[];
  readonly refused: { readonly key: string; readonly reason: string }[];
}

/** Parameters that can change while the node runs (dotted ROS names; `<name>` is any question). */
export const LIVE_PARAMETERS: readonly string[] = [
  'viewpoint.enabled',
  'viewpoint.rate_hz',
  'viewpoint.both_directions',
  'viewpoint.yaw',
  'viewpoint.option_orders',
  'viewpoint.consistency_threshold',
  'questions',
  'question.<name>.text',
  'question.<name>.cameras',
  'question.<name>.choices',
  'question.<name>.rate_hz',
  'prompt.answer_format',
  'prompt.system',
  'model.max_new_tokens',
  'model.timeout_s',
  'queue.size',
  'queue.policy',
  'image.max_input_pixels',
  'image.allow_depth_as_image',
  'tf.publish',
  'tf.child_frame_suffix',
  'diagnostics.rate_hz',
  'diagnostics.stale_after_s',
];

const livePatterns = LIVE_PARAMETERS.map(
  (key) => new RegExp(`^${key.replace(/\./g, '\\.').replace('<name>', '[A-Za-z0-9_]+')}$`),
);

const RECONFIGURE = 'reconfigure the node (lifecycle cleanup, then configure) to apply it';

/** Why a known parameter cannot change live, or undefined when it can (or is unknown). */
function fixedReason(key: string): string | undefined {
  const [section = '', name = ''] = key.split('.');
  if (section === 'model' && name in modelSchema.shape) {
    return `the model is loaded when the node is configured; ${RECONFIGURE}`;
  }
  if (section === 'pairing' && name in pairingSchema.shape) {
    return `it changes how camera frames are synchronised; ${RECONFIGURE}`;
  }
  if (key === 'cameras' || section === 'camera') return `it changes the subscriptions; ${RECONFIGURE}`;
  if (key === 'image.prepare_threads') {
    return `the image threads start when the node is configured; ${RECONFIGURE}`;
  }
  if (key === 'auto_activate') return 'it is read only when the node starts';
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  // Any realm's Object.prototype (structuredClone in a vm context, as under jest, gives another one).
  const proto = Object.getPrototypeOf(value) as object | null;
  return proto === null || Object.getPrototypeOf(proto) === null;
}

/**
 * `{viewpoint: {rate_hz: 2}}` and `{'viewpoint.rate_hz': 2}` both give `[['viewpoint.rate_hz', 2]]`.
 * An empty mapping is a value (`[['viewpoint.rate_hz', {}]]`), so that it is refused, not ignored.
 */
export function flattenParameters(update: Record<string, unknown>, prefix = ''): [string, unknown][] {
  const entries: [string, unknown][] = [];
  for (const [key, value] of Object.entries(update)) {
    const dotted = prefix ? `${prefix}.${key}` : key;
    if (isPlainObject(value) && Object.keys(value).length > 0)
      entries.push(...flattenParameters(value, dotted));
    else entries.push([dotted, value]);
  }
  return entries;
}

function withValues(config: NodeConfig, entries: readonly [string, unknown][]): Record<string, unknown> {
  const raw = structuredClone(config) as unknown as Record<string, unknown>;
  for (const [key, value] of entries) {
    const path = key.split('.');
    let node = raw;
    for (const part of path.slice(0, -1)) {
      const next = node[part];
      if (!isPlainObject(next)) node[part] = {};
      node = node[part] as Record<string, unknown>;
    }
    node[path[path.length - 1] as string] = value;
  }
  return raw;
}

function validate(
  config: NodeConfig,
  entries: readonly [string, unknown][],
): { config: NodeConfig } | { problems: readonly string[] } {
  // The schema itself (not parseConfig, which reads the file system to check model.path).
  const result = nodeConfigSchema.safeParse(withValues(config, entries));
  if (result.success) return { config: result.data };
  return {
    problems: result.error.issues.map((issue) => {
      const key = issue.path.map(String).join('.') || '(root)';
      return issue.code === 'unrecognized_keys'
        ? `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${key === '(root)' ? k : `${key}.${k}`}'`).join(', ')}`
        : `key '${key}': ${issue.message}`;
    }),
  };
}

/**
 * Applies the live-changeable keys of `update` (nested or dotted) to `config`, validated by the
 * config schema: all of them together when that validates, else each on its own. Returns the new
 * configuration (unchanged when nothing applied) and the per-key outcome.
 */
export function planConfigUpdate(
  config: NodeConfig,
  update: Record<string, unknown>,
): ConfigUpdateResult & { readonly config: NodeConfig } {
  const refused: { key: string; reason: string }[] = [];
  const live: [string, unknown][] = [];
  for (const entry of flattenParameters(update)) {
    const [key] = entry;
    if (livePatterns.some((p) => p.test(key))) {
      live.push(entry);
      continue;
    }
    const empty = isPlainObject(entry[1]) && Object.keys(entry[1]).length === 0;
    refused.push({
      key,
      reason:
        fixedReason(key) ??
        (empty ? `'${key}' is given an empty mapping, not a value` : `unknown parameter '${key}'`),
    });
  }
  if (live.length === 0) return { config, applied: [], refused };
  const together = validate(config, live);
  if ('config' in together) return { config: together.config, applied: live.map(([k]) => k), refused };
  let current = config;
  const applied: string[] = [];
  for (const entry of live) {
    const alone = validate(current, [entry]);
    if ('config' in alone) {
      current = alone.config;
      applied.push(entry[0]);
    } else {
      refused.push({ key: entry[0], reason: alone.problems.join('; ') });
    }
  }
  return { config: current, applied, refused };
}
