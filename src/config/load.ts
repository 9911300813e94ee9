import { existsSync, readFileSync, statSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import { nodeConfigSchema, type NodeConfig } from './schema.js';

/** A configuration that failed validation; `problems` has one line per bad key. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly source: string,
    readonly problems: readonly string[],
  ) {
    super(`invalid configuration in ${source}:\n  ${problems.join('\n  ')}`);
  }
}

/** JSON of a value for a message; bigints (ROS integer parameters) as `5n`; never throws. */
function jsonOf(value: unknown): string | undefined {
  try {
    return JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
  } catch {
    return undefined; // e.g. a cycle
  }
}

function plainText(value: unknown): string {
  try {
    return String(value);
  } catch {
    return 'an object'; // no prototype, so no toString
  }
}

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  const json = typeof value === 'bigint' ? `${value}n` : (jsonOf(value) ?? plainText(value));
  const shown = json.length > 60 ? `${json.slice(0, 57)}...` : json;
  const type = Array.isArray(value) ? 'array' : value === null ? 'null' : typeof value;
  return `${shown} (${type})`;
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let node = root;
  for (const key of path) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

function formatIssues(issues: readonly z.core.$ZodIssue[], raw: unknown): string[] {
  return issues.map((issue) => {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      const where = path.length ? `under '${path.join('.')}'` : 'at top level';
      return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `'${[...path, k].join('.')}'`).join(', ')} ${where}`;
    }
    const key = path.length ? path.join('.') : '(root)';
    const got = describeValue(valueAt(raw, issue.path));
    return `key '${key}': ${issue.message}; got ${got}`;
  });
}

/**
 * The parameters mapping of a params file: ROS 2 `--params-file` layout
 * (`<node or /**>: {ros__parameters: {...}}`) or a plain mapping.
 */
export function extractParameters(document: unknown): unknown {
  if (document === null || typeof document !== 'object' || Array.isArray(document)) return document;
  const entries = Object.entries(document as Record<string, unknown>);
  for (const [, value] of entries) {
    if (value && typeof value === 'object' && 'ros__parameters' in value) {
      return (value as { ros__parameters: unknown }).ros__parameters;
    }
  }
  return document;
}

/** Sets `a.b.c` in a nested object, creating (or replacing non-object) intermediate levels. */
export function setPath(target: Record<string, unknown>, dotted: string, value: unknown): void {
  const keys = dotted.split('.');
  let node = target;
  for (const key of keys.slice(0, -1)) {
    const next = node[key];
    if (next === null || typeof next !== 'object' || Array.isArray(next)) node[key] = {};
    node = node[key] as Record<string, unknown>;
  }
  node[keys[keys.length - 1] ?? ''] = value;
}

/**
 * Applies `key=value` overrides (dotted keys, YAML values: `pairing.queue_size=5`,
 * `cameras=[left,right]`) to a parameters mapping, as ROS `-p` overrides do.
 */
export function applyOverrides(params: unknown, overrides: readonly string[]): Record<string, unknown> {
  const result: Record<string, unknown> = structuredClone(
    params && typeof params === 'object' ? (params as Record<string, unknown>) : {},
  );
  for (const override of overrides) {
    const eq = override.indexOf('=');
    if (eq <= 0) throw new ConfigError('overrides', [`override '${override}' is not key=value`]);
    let value: unknown;
    try {
      value = parseYaml(override.slice(eq + 1));
    } catch (error) {
      const why = (error as Error).message.split('\n')[0] ?? '';
      throw new ConfigError('overrides', [`override '${override}': the value is not valid YAML (${why})`]);
    }
    setPath(result, override.slice(0, eq).trim(), value);
  }
  return result;
}

/** Options for {@link parseConfig}. */
export interface ParseConfigOptions {
  /** Name used in error messages (file path or "ROS parameters"). */
  source?: string;
  /** Check that `model.path`, when set, is an existing folder. Default true. */
  checkModelPath?: boolean;
}

/** Validates a parameters mapping, filling defaults. Throws {@link ConfigError}. */
export function parseConfig(params: unknown, options: ParseConfigOptions = {}): NodeConfig {
  const source = options.source ?? 'configuration';
  const result = nodeConfigSchema.safeParse(params);
  if (!result.success) throw new ConfigError(source, formatIssues(result.error.issues, params));
  const config = result.data;
  if ((options.checkModelPath ?? true) && config.model.path !== '') {
    const path = config.model.path;
    if (!existsSync(path)) {
      throw new ConfigError(source, [`key 'model.path': model folder '${path}' does not exist`]);
    }
    if (!statSync(path).isDirectory()) {
      throw new ConfigError(source, [`key 'model.path': '${path}' is not a folder`]);
    }
  }
  return config;
}

/** Reads a YAML params file, applies overrides and validates it. Throws {@link ConfigError}. */
export function loadConfigFile(
  path: string,
  overrides: readonly string[] = [],
  options: Omit<ParseConfigOptions, 'source'> = {},
): NodeConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(path, [`cannot read file: ${(error as Error).message}`]);
  }
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new ConfigError(path, [`not valid YAML: ${(error as Error).message.split('\n')[0]}`]);
  }
  const params = applyOverrides(extractParameters(document), overrides);
  return parseConfig(params, { ...options, source: path });
}
