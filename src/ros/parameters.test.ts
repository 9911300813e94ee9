import { readFileSync } from 'node:fs';
import ts from 'typescript';
import { parse as parseYaml } from 'yaml';
import { extractParameters, loadConfigFile, parseConfig } from '../config/load.js';
import { PARAMETER_DESCRIPTIONS } from './parameter-descriptions.js';
import {
  coerceParameterValue,
  configInput,
  inferType,
  isForeignParameter,
  namesInParameters,
  parameterPattern,
  parameterSpecs,
  ParameterType,
  ParameterValueError,
  placeholderValue,
  toRclValue,
  type ParameterValue,
} from './parameters.js';

const minimal = {
  cameras: ['left', 'right'],
  camera: { left: { topic: '/left/image_raw' }, right: { topic: '/right/image_raw' } },
  questions: ['door'],
  question: { door: { text: 'Is the door open?', cameras: ['left'] } },
};

/** Dotted names of the leaves of a parsed config (arrays are leaves, as ROS parameters). */
function leaves(value: unknown, prefix = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, child] of Object.entries(value)) {
      for (const [name, leaf] of leaves(child, prefix ? `${prefix}.${key}` : key)) out.set(name, leaf);
    }
  } else {
    out.set(prefix, value);
  }
  return out;
}

describe('parameterSpecs', () => {
  const specs = parameterSpecs({ cameras: ['left', 'right'], questions: ['door'] });
  const byName = new Map(specs.map((s) => [s.name, s]));
  const parsed = parseConfig(minimal, { checkModelPath: false });

  it('declares exactly the leaf keys of the config, dynamic groups expanded', () => {
    expect([...byName.keys()].sort()).toEqual([...leaves(parsed).keys()].sort());
    expect(byName.has('camera.right.qos.depth')).toBe(true);
    expect(byName.has('question.door.choices')).toBe(true);
    expect(specs.some((s) => s.name.startsWith('camera.<'))).toBe(false);
  });

  it('gives each key the ROS type of its value', () => {
    for (const [name, value] of leaves(parsed)) {
      const spec = byName.get(name);
      const expected =
        typeof value === 'boolean'
          ? [ParameterType.BOOL]
          : typeof value === 'string'
            ? [ParameterType.STRING]
            : typeof value === 'number'
              ? [ParameterType.INTEGER, ParameterType.DOUBLE]
              : [ParameterType.STRING_ARRAY, ParameterType.DOUBLE_ARRAY];
      expect({ name, allowed: expected.includes(spec?.type as never) }).toEqual({ name, allowed: true });
    }
  });

  it('types, ranges and constraints of representative keys', () => {
    expect(byName.get('pairing.queue_size')).toMatchObject({
      type: ParameterType.INTEGER,
      range: { kind: 'integer', from: 1n, to: 10000n, step: 1n },
      defaultValue: 10,
    });
    expect(byName.get('pairing.age_penalty')).toMatchObject({
      type: ParameterType.DOUBLE,
      range: { kind: 'double', from: 0, to: Number.MAX_VALUE, step: 0 },
      defaultValue: 0.1,
    });
    expect(byName.get('viewpoint.consistency_threshold')?.range).toEqual({
      kind: 'double',
      from: 0,
      to: 1,
      step: 0,
    });
    expect(byName.get('model.device_id')?.range).toEqual({
      kind: 'integer',
      from: 0n,
      to: 9223372036854775807n,
      step: 1n,
    });
    expect(byName.get('pairing.temporal_dt_s')).toMatchObject({
      range: { kind: 'double', from: 0, to: 1e6, step: 0 },
      additionalConstraints: '> 0',
    });
    expect(byName.get('diagnostics.rate_hz')?.range).toEqual({ kind: 'double', from: 1e-6, to: 10, step: 0 });
    expect(byName.get('camera.left.transport')).toMatchObject({
      type: ParameterType.STRING,
      additionalConstraints: 'one of: raw, compressed',
      defaultValue: 'raw',
    });
    expect(byName.get('camera.left.qos.reliability')?.additionalConstraints).toBe(
      'one of: "", reliable, best_effort',
    );
    expect(byName.get('camera.left.topic')).toMatchObject({
      defaultValue: undefined,
      additionalConstraints: 'not empty',
    });
    expect(byName.get('cameras')).toMatchObject({
      type: ParameterType.STRING_ARRAY,
      defaultValue: undefined,
    });
    expect(byName.get('cameras')?.additionalConstraints).toContain('at least 1 item');
    expect(byName.get('pairing.inter_message_lower_bound_s')).toMatchObject({
      type: ParameterType.DOUBLE_ARRAY,
      defaultValue: [],
      additionalConstraints: 'each >= 0; each <= 1000000',
    });
    expect(byName.get('pairing.pairs')?.additionalConstraints).toMatch(/^each matching /);
    expect(byName.get('viewpoint.rate_hz')).toMatchObject({ type: ParameterType.DOUBLE, defaultValue: 1 });
    expect(byName.get('auto_activate')).toMatchObject({
      type: ParameterType.BOOL,
      readOnly: true,
      defaultValue: true,
    });
    expect(specs.filter((s) => s.readOnly).map((s) => s.name)).toEqual(['auto_activate']);
  });

  it('every default is a value of the declared type', () => {
    for (const spec of specs) {
      if (spec.defaultValue === undefined) continue;
      expect(() => coerceParameterValue(spec.name, spec.type, spec.defaultValue)).not.toThrow();
    }
  });

  it('describes every parameter', () => {
    for (const spec of specs)
      expect({ name: spec.name, description: spec.description }).toEqual({
        name: spec.name,
        description: expect.stringMatching(/\S/),
      });
    const patterns = new Set(specs.map((s) => parameterPattern(s.name)));
    // No stale entries in the table.
    expect(Object.keys(PARAMETER_DESCRIPTIONS).filter((key) => !patterns.has(key))).toEqual([]);
  });

  it('without cameras or questions declares only the fixed keys', () => {
    const fixed = parameterSpecs({ cameras: [], questions: [] }).map((s) => s.name);
    expect(fixed.some((n) => n.startsWith('camera.') || n.startsWith('question.'))).toBe(false);
    expect(fixed).toEqual(expect.arrayContaining(['cameras', 'questions', 'model.path', 'auto_activate']));
  });
});

describe('descriptions match the doc comments of src/config/schema.ts', () => {
  /** The doc comment of every documented leaf key of the schema file, by dotted pattern. */
  function schemaDocs(): Map<string, string> {
    const file = 'src/config/schema.ts';
    const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
    const objects = new Map<string, ts.ObjectLiteralExpression>();
    const findObject = (node: ts.Node): ts.ObjectLiteralExpression | undefined => {
      if (ts.isCallExpression(node) && node.expression.getText().replace(/\s+/g, '') === 'z.object') {
        const arg = node.arguments[0];
        return arg && ts.isObjectLiteralExpression(arg) ? arg : undefined;
      }
      return ts.forEachChild(node, findObject);
    };
    source.forEachChild((statement) => {
      if (!ts.isVariableStatement(statement)) return;
      for (const declaration of statement.declarationList.declarations) {
        const object = declaration.initializer && findObject(declaration.initializer);
        if (object) objects.set(declaration.name.getText(), object);
      }
    });
    const docs = new Map<string, string>();
    const walk = (object: ts.ObjectLiteralExpression, prefix: string): void => {
      for (const property of object.properties) {
        if (!ts.isPropertyAssignment(property)) continue;
        const key = property.name.getText();
        const text = property.initializer.getText();
        const nested = [...objects.keys()].find((name) => new RegExp(`\\b${name}\\b`).test(text));
        if (nested) {
          const inRecord = text.replace(/\s+/g, '').startsWith('z.record(');
          walk(
            objects.get(nested) as ts.ObjectLiteralExpression,
            `${prefix}${key}${inRecord ? '.<name>' : ''}.`,
          );
          continue;
        }
        const comment = ts
          .getJSDocCommentsAndTags(property)
          .map((doc) => ts.getTextOfJSDocComment(doc.comment) ?? '')
          .join(' ');
        if (comment) docs.set(`${prefix}${key}`, comment.replace(/\s+/g, ' ').trim());
      }
    };
    walk(objects.get('nodeConfigSchema') as ts.ObjectLiteralExpression, '');
    return docs;
  }

  it('uses the doc comment wherever the schema has one', () => {
    const docs = schemaDocs();
    expect(docs.size).toBeGreaterThan(30);
    for (const [pattern, doc] of docs) {
      expect({ pattern, description: PARAMETER_DESCRIPTIONS[pattern] }).toEqual({
        pattern,
        description: doc,
      });
    }
  });
});

describe('coerceParameterValue', () => {
  it('takes rclnodejs values: integers as bigint, typed arrays', () => {
    expect(
      coerceParameterValue('pairing.queue_size', ParameterType.INTEGER, 12n, ParameterType.INTEGER),
    ).toBe(12);
    expect(coerceParameterValue('x', ParameterType.DOUBLE_ARRAY, new Float64Array([0.5, 1]))).toEqual([
      0.5, 1,
    ]);
    expect(coerceParameterValue('x', ParameterType.INTEGER_ARRAY, [1n, 2n])).toEqual([1, 2]);
    expect(coerceParameterValue('x', ParameterType.STRING_ARRAY, ['a'])).toEqual(['a']);
  });

  it('widens integers to doubles and narrows integral doubles', () => {
    expect(coerceParameterValue('viewpoint.rate_hz', ParameterType.DOUBLE, 2n, ParameterType.INTEGER)).toBe(
      2,
    );
    expect(
      coerceParameterValue('x', ParameterType.DOUBLE_ARRAY, [0n, 1n], ParameterType.INTEGER_ARRAY),
    ).toEqual([0, 1]);
    expect(coerceParameterValue('x', ParameterType.INTEGER, 5, ParameterType.DOUBLE)).toBe(5);
  });

  it('reads an unset value (an empty YAML list) as an empty array', () => {
    expect(
      coerceParameterValue('pairing.pairs', ParameterType.STRING_ARRAY, undefined, ParameterType.NOT_SET),
    ).toEqual([]);
    expect(() =>
      coerceParameterValue('model.path', ParameterType.STRING, undefined, ParameterType.NOT_SET),
    ).toThrow(ParameterValueError);
  });

  it('refuses other values, naming the key, the type and the value', () => {
    const error = (() => {
      try {
        coerceParameterValue('pairing.queue_size', ParameterType.INTEGER, 2.5, ParameterType.DOUBLE);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ParameterValueError);
    expect(error).toMatchObject({ key: 'pairing.queue_size', expected: 'a ROS integer', got: 'double 2.5' });
    expect((error as Error).message).toBe(
      "parameter 'pairing.queue_size' must be a ROS integer, got double 2.5",
    );
    expect(() => coerceParameterValue('tf.publish', ParameterType.BOOL, 'yes')).toThrow(
      'parameter \'tf.publish\' must be a ROS bool, got string "yes"',
    );
    expect(() => coerceParameterValue('cameras', ParameterType.STRING_ARRAY, [1n, 2n])).toThrow(
      /integer array \[1,2\]/,
    );
    expect(() => coerceParameterValue('x', ParameterType.INTEGER, 2n ** 60n)).toThrow(ParameterValueError);
  });
});

describe('inferType / toRclValue / placeholderValue', () => {
  it('infers ROS types as rclnodejs does', () => {
    expect(inferType(1)).toBe(ParameterType.INTEGER);
    expect(inferType(1.5)).toBe(ParameterType.DOUBLE);
    expect(inferType(1n)).toBe(ParameterType.INTEGER);
    expect(inferType(['a'])).toBe(ParameterType.STRING_ARRAY);
    expect(inferType([0.5])).toBe(ParameterType.DOUBLE_ARRAY);
    expect(inferType([])).toBe(ParameterType.NOT_SET);
  });

  it('gives rclnodejs bigints for integers', () => {
    expect(toRclValue(ParameterType.INTEGER, 5)).toBe(5n);
    expect(toRclValue(ParameterType.INTEGER_ARRAY, [1, 2])).toEqual([1n, 2n]);
    expect(toRclValue(ParameterType.DOUBLE, 5)).toBe(5);
    const list = ['a'];
    expect(toRclValue(ParameterType.STRING_ARRAY, list)).not.toBe(list);
  });

  it('placeholders are empty values of the type', () => {
    expect(placeholderValue(ParameterType.STRING)).toBe('');
    expect(placeholderValue(ParameterType.STRING_ARRAY)).toEqual([]);
  });
});

describe('configInput', () => {
  const specs = parameterSpecs({ cameras: ['left', 'right'], questions: ['door'] });
  const defaults = new Map<string, ParameterValue>(
    specs.map((s) => [s.name, s.defaultValue ?? placeholderValue(s.type)]),
  );

  it('nests dotted names and parses to the same config as the file form', () => {
    const values = new Map(defaults);
    values.set('cameras', ['left', 'right']);
    values.set('camera.left.topic', '/left/image_raw');
    values.set('camera.right.topic', '/right/image_raw');
    values.set('questions', ['door']);
    values.set('question.door.text', 'Is the door open?');
    values.set('question.door.cameras', ['left']);
    const input = configInput(specs, values);
    expect(input).toMatchObject({ camera: { left: { qos: { profile: 'sensor_data' } } } });
    expect(parseConfig(input, { checkModelPath: false })).toEqual(
      parseConfig(minimal, { checkModelPath: false }),
    );
  });

  it('leaves out required keys still holding their placeholder, so they are reported missing', () => {
    const input = configInput(specs, defaults);
    expect(input).not.toHaveProperty('cameras');
    expect((input.camera as Record<string, Record<string, unknown>>).left).not.toHaveProperty('topic');
    expect(() => parseConfig(input, { checkModelPath: false })).toThrow(/key 'cameras': .*got nothing/);
  });
});

describe('config/default.yaml as ROS parameter overrides', () => {
  /** The overrides rcl would give for a params file: YAML types, integers as bigint, [] unset. */
  function overridesOf(file: string): Map<string, { type: number; value: unknown }> {
    const params = extractParameters(parseYaml(readFileSync(file, 'utf8')));
    const out = new Map<string, { type: number; value: unknown }>();
    for (const [name, value] of leaves(params)) {
      const type = inferType(value);
      const rclValue =
        type === ParameterType.INTEGER
          ? BigInt(value as number)
          : type === ParameterType.INTEGER_ARRAY
            ? (value as number[]).map((v) => BigInt(v))
            : type === ParameterType.NOT_SET
              ? undefined
              : value;
      out.set(name, { type, value: rclValue });
    }
    return out;
  }

  it('declares and parses to the same config as the offline tools read', () => {
    const overrides = overridesOf('config/default.yaml');
    expect([...overrides.values()].some((o) => o.type === ParameterType.NOT_SET)).toBe(true); // [] in the file
    const names = namesInParameters(overrides.keys());
    const cameras = coerceParameterValue(
      'cameras',
      ParameterType.STRING_ARRAY,
      overrides.get('cameras')?.value,
    );
    const specs = parameterSpecs({ cameras: cameras as string[], questions: names.questions });
    const values = new Map<string, ParameterValue>();
    for (const spec of specs) {
      const override = overrides.get(spec.name);
      values.set(
        spec.name,
        override
          ? coerceParameterValue(spec.name, spec.type, override.value, override.type)
          : (spec.defaultValue ?? placeholderValue(spec.type)),
      );
    }
    expect([...overrides.keys()].filter((name) => !values.has(name))).toEqual([]);
    expect(parseConfig(configInput(specs, values))).toEqual(loadConfigFile('config/default.yaml'));
  });
});

describe('namesInParameters / isForeignParameter', () => {
  it('finds camera and question names in parameter names', () => {
    expect(
      namesInParameters([
        'camera.front.topic',
        'camera.front.qos.depth',
        'question.q1.text',
        'cameras',
        'camera.x',
      ]),
    ).toEqual({ cameras: ['front'], questions: ['q1'] });
  });

  it('knows the parameters ROS owns', () => {
    expect(isForeignParameter('use_sim_time')).toBe(true);
    expect(isForeignParameter('qos_overrides./tf.publisher.depth')).toBe(true);
    expect(isForeignParameter('model.path')).toBe(false);
    expect(isForeignParameter('use_sim_timex')).toBe(false);
  });
});
