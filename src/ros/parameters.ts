/**
 * The node's ROS parameters, derived from the config schema (src/config/schema.ts): one parameter
 * per leaf key with its dotted name, ROS type, description, range and default, and the way back
 * from ROS parameter values to the nested object `parseConfig` validates. No rclnodejs here: the
 * adapter turns {@link ParameterSpec}s into rclnodejs Parameters and ParameterDescriptors.
 */
import { z } from 'zod';
import { setPath } from '../config/load.js';
import { nodeConfigSchema } from '../config/schema.js';
import { PARAMETER_DESCRIPTIONS } from './parameter-descriptions.js';

/** rcl_interfaces/msg/ParameterType. */
export const ParameterType = {
  NOT_SET: 0,
  BOOL: 1,
  INTEGER: 2,
  DOUBLE: 3,
  STRING: 4,
  BYTE_ARRAY: 5,
  BOOL_ARRAY: 6,
  INTEGER_ARRAY: 7,
  DOUBLE_ARRAY: 8,
  STRING_ARRAY: 9,
} as const;
export type ParameterTypeValue = (typeof ParameterType)[keyof typeof ParameterType];

const TYPE_NAMES: Record<ParameterTypeValue, string> = {
  0: 'not set',
  1: 'bool',
  2: 'integer',
  3: 'double',
  4: 'string',
  5: 'byte array',
  6: 'bool array',
  7: 'integer array',
  8: 'double array',
  9: 'string array',
};

/** `integer`, `double array`, ... as `ros2 param describe` prints them. */
export function parameterTypeName(type: number): string {
  return TYPE_NAMES[type as ParameterTypeValue] ?? `type ${type}`;
}

/** A parameter value as the config schema takes it (integers as numbers). */
export type ParameterValue = boolean | number | string | boolean[] | number[] | string[];

/** rcl_interfaces IntegerRange / FloatingPointRange (inclusive; step 0 = any value). */
export type ParameterRange =
  | { readonly kind: 'integer'; readonly from: bigint; readonly to: bigint; readonly step: bigint }
  | { readonly kind: 'double'; readonly from: number; readonly to: number; readonly step: number };

/** One ROS parameter of the node. */
export interface ParameterSpec {
  /** Dotted name, e.g. `camera.left.qos.depth`. */
  readonly name: string;
  readonly type: ParameterTypeValue;
  readonly description: string;
  /** Allowed values and bounds a range cannot express, e.g. `one of: raw, compressed`. */
  readonly additionalConstraints: string;
  /** Changed only by a restart (rcl_interfaces ParameterDescriptor.read_only). */
  readonly readOnly: boolean;
  readonly range: ParameterRange | undefined;
  /** The schema default; undefined for a required key. */
  readonly defaultValue: ParameterValue | undefined;
}

/** The names of the dynamic parameter groups: camera.<name>.* and question.<name>.*. */
export interface DynamicNames {
  /** Values of the `cameras` parameter (each needs camera.<name>.*). */
  readonly cameras: readonly string[];
  /** Values of `questions`, plus question names defined by parameter overrides. */
  readonly questions: readonly string[];
}

/** Which list parameter names the entries of each keyed group (`camera` <- `cameras`). */
const DYNAMIC_GROUPS: Readonly<Record<string, keyof DynamicNames>> = {
  camera: 'cameras',
  question: 'questions',
};

/** Keys that only a restart can change. */
const READ_ONLY = new Set(['auto_activate']);

/** Largest and smallest int64, the bounds of an open-ended INTEGER range. */
const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/** A ROS parameter value that does not fit the schema's type; names the key, the type and the value. */
export class ParameterValueError extends Error {
  override readonly name = 'ParameterValueError';
  constructor(
    readonly key: string,
    readonly expected: string,
    readonly got: string,
  ) {
    super(`parameter '${key}' must be ${expected}, got ${got}`);
  }
}

interface JsonSchema {
  type?: string;
  description?: string;
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema | boolean;
  items?: JsonSchema;
  enum?: unknown[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  minItems?: number;
  minLength?: number;
  default?: unknown;
}

let cachedSchema: JsonSchema | undefined;
function configJsonSchema(): JsonSchema {
  cachedSchema ??= z.toJSONSchema(nodeConfigSchema, { io: 'input', unrepresentable: 'any' }) as JsonSchema;
  return cachedSchema;
}

/** `camera.left.qos.depth` -> `camera.<name>.qos.depth` (the key of {@link PARAMETER_DESCRIPTIONS}). */
export function parameterPattern(name: string): string {
  const parts = name.split('.');
  if (parts.length > 2 && parts[0] !== undefined && parts[0] in DYNAMIC_GROUPS) parts[1] = '<name>';
  return parts.join('.');
}

function leafType(key: string, schema: JsonSchema): ParameterTypeValue {
  const itemType = schema.items?.type;
  switch (schema.type) {
    case 'boolean':
      return ParameterType.BOOL;
    case 'integer':
      return ParameterType.INTEGER;
    case 'number':
      return ParameterType.DOUBLE;
    case 'string':
      return ParameterType.STRING;
    case 'array':
      if (itemType === 'string') return ParameterType.STRING_ARRAY;
      if (itemType === 'integer') return ParameterType.INTEGER_ARRAY;
      if (itemType === 'number') return ParameterType.DOUBLE_ARRAY;
      if (itemType === 'boolean') return ParameterType.BOOL_ARRAY;
      break;
  }
  throw new Error(
    `config key '${key}' has a type (${JSON.stringify(schema)}) that no ROS parameter type can hold`,
  );
}

function constraints(schema: JsonSchema): string {
  const parts: string[] = [];
  const element = schema.type === 'array' ? (schema.items ?? {}) : schema;
  const each = schema.type === 'array' ? 'each ' : '';
  if (element.enum)
    parts.push(`${each}one of: ${element.enum.map((v) => (v === '' ? '""' : String(v))).join(', ')}`);
  if (element.pattern) parts.push(`${each}matching ${element.pattern}`);
  if (element.exclusiveMinimum !== undefined) parts.push(`${each}> ${element.exclusiveMinimum}`);
  if (element.exclusiveMaximum !== undefined) parts.push(`${each}< ${element.exclusiveMaximum}`);
  if (schema.type === 'array' && (element.minimum !== undefined || element.maximum !== undefined)) {
    if (element.minimum !== undefined) parts.push(`each >= ${element.minimum}`);
    if (element.maximum !== undefined) parts.push(`each <= ${element.maximum}`);
  }
  if (schema.minItems) parts.push(`at least ${schema.minItems} item${schema.minItems > 1 ? 's' : ''}`);
  if (schema.minLength) parts.push('not empty');
  return parts.join('; ');
}

function range(type: ParameterTypeValue, schema: JsonSchema): ParameterRange | undefined {
  const { maximum } = schema;
  // An exclusive lower bound (`> 0`) is also in additionalConstraints; the range starts there.
  const minimum = schema.minimum ?? schema.exclusiveMinimum;
  if (minimum === undefined && maximum === undefined) return undefined;
  if (type === ParameterType.INTEGER) {
    return {
      kind: 'integer',
      from: minimum === undefined ? INT64_MIN : BigInt(minimum),
      to: maximum === undefined || maximum >= Number.MAX_SAFE_INTEGER ? INT64_MAX : BigInt(maximum),
      step: 1n,
    };
  }
  if (type === ParameterType.DOUBLE) {
    return { kind: 'double', from: minimum ?? -Number.MAX_VALUE, to: maximum ?? Number.MAX_VALUE, step: 0 };
  }
  return undefined;
}

function schemaDescription(key: string, schema: JsonSchema): string {
  const description = schema.description ?? PARAMETER_DESCRIPTIONS[parameterPattern(key)];
  if (!description)
    throw new Error(`config key '${key}' has no description (src/ros/parameter-descriptions.ts)`);
  return description;
}

/**
 * Every parameter of the node for these camera and question names, in schema order: the fixed keys
 * plus camera.<name>.* for each camera and question.<name>.* for each question.
 */
export function parameterSpecs(names: DynamicNames): ParameterSpec[] {
  const specs: ParameterSpec[] = [];
  const walk = (schema: JsonSchema, prefix: string): void => {
    for (const [key, child] of Object.entries(schema.properties ?? {})) {
      const name = prefix ? `${prefix}.${key}` : key;
      const group = prefix === '' ? DYNAMIC_GROUPS[key] : undefined;
      if (group !== undefined) {
        const element = child.additionalProperties;
        if (typeof element !== 'object') throw new Error(`config key '${name}' is not a keyed group`);
        for (const entry of names[group]) walk(element, `${name}.${entry}`);
        continue;
      }
      if (child.type === 'object') {
        if (typeof child.additionalProperties === 'object') {
          throw new Error(`config key '${name}' is a keyed group with no list parameter naming its entries`);
        }
        walk(child, name);
        continue;
      }
      const type = leafType(name, child);
      specs.push({
        name,
        type,
        description: schemaDescription(name, child),
        additionalConstraints: constraints(child),
        readOnly: READ_ONLY.has(name),
        range: range(type, child),
        defaultValue:
          child.default === undefined ? undefined : coerceParameterValue(name, type, child.default),
      });
    }
  };
  walk(configJsonSchema(), '');
  return specs;
}

/** Camera and question names mentioned by parameter names (`camera.front.topic` -> camera `front`). */
export function namesInParameters(names: Iterable<string>): { cameras: string[]; questions: string[] } {
  const found = { cameras: new Set<string>(), questions: new Set<string>() };
  for (const name of names) {
    const [group = '', entry, leaf] = name.split('.');
    const list = DYNAMIC_GROUPS[group];
    if (list && entry && leaf !== undefined) found[list].add(entry);
  }
  return { cameras: [...found.cameras], questions: [...found.questions] };
}

function describeValue(type: number, value: unknown): string {
  const shown =
    JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? Number(v) : v)) ?? String(value);
  return `${parameterTypeName(type)} ${shown.length > 60 ? `${shown.slice(0, 57)}...` : shown}`;
}

function toNumber(key: string, value: number | bigint, expected: string, type: number): number {
  if (typeof value === 'number') return value;
  const number = Number(value);
  if (!Number.isSafeInteger(number)) throw new ParameterValueError(key, expected, describeValue(type, value));
  return number;
}

/**
 * A parameter value of ROS type `type` (as rclnodejs gives it: integers as bigint, arrays as arrays
 * or typed arrays) as the value the schema's key of type `expected` takes. Integers widen to doubles
 * (`-p rate_hz:=2`), integral doubles narrow to integers, and an unset value (an empty YAML list `[]`,
 * which rcl cannot type) is an empty array for array parameters.
 * @throws ParameterValueError for anything else.
 */
export function coerceParameterValue(
  key: string,
  expected: ParameterTypeValue,
  value: unknown,
  type: number = inferType(value),
): ParameterValue {
  const want = parameterTypeName(expected);
  const fail = (): never => {
    throw new ParameterValueError(key, `a ROS ${want}`, describeValue(type, value));
  };
  const list = (): unknown[] => {
    if (type === ParameterType.NOT_SET && (value === undefined || value === null)) return [];
    if (Array.isArray(value)) return value;
    if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
      return Array.from(value as unknown as ArrayLike<unknown>);
    }
    return fail();
  };
  const integer = (v: unknown): number => {
    if (typeof v === 'bigint') return toNumber(key, v, `a ROS ${want}`, type);
    if (typeof v === 'number' && Number.isSafeInteger(v)) return v;
    return fail();
  };
  const double = (v: unknown): number => {
    if (typeof v === 'bigint') return toNumber(key, v, `a ROS ${want}`, type);
    if (typeof v === 'number') return v;
    return fail();
  };
  switch (expected) {
    case ParameterType.BOOL:
      return typeof value === 'boolean' ? value : fail();
    case ParameterType.STRING:
      return typeof value === 'string' ? value : fail();
    case ParameterType.INTEGER:
      return integer(value);
    case ParameterType.DOUBLE:
      return double(value);
    case ParameterType.STRING_ARRAY:
      return list().map((v) => (typeof v === 'string' ? v : fail()));
    case ParameterType.BOOL_ARRAY:
      return list().map((v) => (typeof v === 'boolean' ? v : fail()));
    case ParameterType.INTEGER_ARRAY:
      return list().map(integer);
    case ParameterType.DOUBLE_ARRAY:
      return list().map(double);
    default:
      return fail();
  }
}

/** The ROS type of a JavaScript value (rclnodejs's inference: bigint and integral numbers are integers). */
export function inferType(value: unknown): ParameterTypeValue {
  if (value === undefined || value === null) return ParameterType.NOT_SET;
  if (typeof value === 'boolean') return ParameterType.BOOL;
  if (typeof value === 'string') return ParameterType.STRING;
  if (typeof value === 'bigint') return ParameterType.INTEGER;
  if (typeof value === 'number')
    return Number.isInteger(value) ? ParameterType.INTEGER : ParameterType.DOUBLE;
  const items = Array.isArray(value)
    ? value
    : ArrayBuffer.isView(value)
      ? Array.from(value as unknown as ArrayLike<unknown>)
      : undefined;
  if (!items || items.length === 0) return ParameterType.NOT_SET;
  const first = inferType(items[0]);
  if (first === ParameterType.BOOL) return ParameterType.BOOL_ARRAY;
  if (first === ParameterType.STRING) return ParameterType.STRING_ARRAY;
  if (first === ParameterType.INTEGER) return ParameterType.INTEGER_ARRAY;
  if (first === ParameterType.DOUBLE) return ParameterType.DOUBLE_ARRAY;
  return ParameterType.NOT_SET;
}

/**
 * A value as rclnodejs's Parameter of `type` holds it: integers as bigint (INTEGER and the elements
 * of INTEGER_ARRAY), everything else unchanged.
 */
export function toRclValue(type: ParameterTypeValue, value: ParameterValue): unknown {
  if (type === ParameterType.INTEGER) return BigInt(value as number);
  if (type === ParameterType.INTEGER_ARRAY) return (value as number[]).map((v) => BigInt(v));
  return Array.isArray(value) ? [...value] : value;
}

/** The placeholder a required parameter is declared with before anyone sets it ('' or []). */
export function placeholderValue(type: ParameterTypeValue): ParameterValue {
  switch (type) {
    case ParameterType.BOOL:
      return false;
    case ParameterType.INTEGER:
    case ParameterType.DOUBLE:
      return 0;
    case ParameterType.STRING:
      return '';
    default:
      return [];
  }
}

/**
 * The nested parameters object `parseConfig` validates, from parameter values by dotted name.
 * A required key (no schema default) still holding its placeholder is left out, so that the schema
 * reports it as missing rather than as empty.
 */
export function configInput(
  specs: readonly ParameterSpec[],
  values: ReadonlyMap<string, ParameterValue>,
): Record<string, unknown> {
  const result: Record<string, unknown> = {};
  const known = new Map(specs.map((spec) => [spec.name, spec]));
  for (const [name, value] of values) {
    const spec = known.get(name);
    if (spec && spec.defaultValue === undefined) {
      const placeholder = placeholderValue(spec.type);
      if (JSON.stringify(placeholder) === JSON.stringify(value)) continue;
    }
    setPath(result, name, value);
  }
  return result;
}

/** Parameter names set on the command line or in params files that the node does not own. */
const FOREIGN_PARAMETER = /^(use_sim_time|start_type_description_service|qos_overrides)(\.|$)/;

/** Whether a parameter name belongs to ROS itself (use_sim_time, qos_overrides.*) rather than to the node's config. */
export function isForeignParameter(name: string): boolean {
  return FOREIGN_PARAMETER.test(name);
}
