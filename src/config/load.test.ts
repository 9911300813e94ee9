import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { applyOverrides, ConfigError, loadConfigFile, parseConfig } from './load.js';

const minimal = {
  cameras: ['left', 'right'],
  camera: {
    left: { topic: '/left/image_raw' },
    right: { topic: '/right/image_raw', transport: 'compressed' },
  },
};

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems];
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('config', () => {
  it('loads the shipped config/default.yaml (ROS 2 params-file layout) with every default', () => {
    const config = loadConfigFile('config/default.yaml');
    expect(config.cameras).toEqual(['left', 'right']);
    expect(config.camera.left?.qos.profile).toBe('sensor_data');
    expect(config.pairing.age_penalty).toBe(0.1);
    expect(config.model.max_pixels).toBe(448 * 448);
  });

  it('fills defaults for a minimal mapping', () => {
    const config = parseConfig(minimal);
    expect(config.pairing.policy).toBe('approximate');
    expect(config.queue).toEqual({ size: 4, policy: 'keep_latest' });
    expect(config.camera.right?.transport).toBe('compressed');
    expect(config.camera.left?.qos).toEqual({ profile: 'sensor_data', depth: 5, reliability: '' });
  });

  it.each([
    ['unknown top-level key', { ...minimal, camras: [] }, /unknown key 'camras' at top level/],
    [
      'unknown nested key',
      { ...minimal, pairing: { queue_sise: 3 } },
      /unknown key 'pairing.queue_sise' under 'pairing'/,
    ],
    [
      'wrong type',
      { ...minimal, pairing: { queue_size: 'ten' } },
      /key 'pairing.queue_size': .*number.*; got "ten" \(string\)/,
    ],
    ['non-integer', { ...minimal, queue: { size: 2.5 } }, /key 'queue.size': .*int.*; got 2.5 \(number\)/],
    [
      'negative image threads',
      { ...minimal, image: { prepare_threads: -1 } },
      /key 'image.prepare_threads': .*; got -1 \(number\)/,
    ],
    [
      'too many image threads',
      { ...minimal, image: { prepare_threads: 65 } },
      /key 'image.prepare_threads': .*64.*; got 65 \(number\)/,
    ],
    [
      'bad enum',
      { ...minimal, pairing: { policy: 'nearest' } },
      /key 'pairing.policy': .*"approximate".*; got "nearest" \(string\)/,
    ],
    ['missing cameras', { camera: {} }, /key 'cameras': .*; got nothing/],
    [
      'camera without settings',
      { ...minimal, cameras: ['left', 'right', 'rear'] },
      /camera 'rear' has no settings/,
    ],
    [
      'pair naming an unknown camera',
      { ...minimal, pairing: { pair_mode: 'list', pairs: ['left:front'] } },
      /key 'pairing.pairs.0': unknown camera 'front'/,
    ],
    [
      'pair of a camera with itself',
      { ...minimal, pairing: { pair_mode: 'list', pairs: ['left:left'] } },
      /key 'pairing.pairs.0': pair 'left:left' pairs a camera with itself/,
    ],
    [
      'pair listed twice',
      { ...minimal, pairing: { pair_mode: 'list', pairs: ['left:right', 'right:left', 'left:right'] } },
      /key 'pairing.pairs.2': pair 'left:right' is listed twice/,
    ],
    [
      'rate too small to have a period',
      { ...minimal, viewpoint: { rate_hz: 1e-300 } },
      /key 'viewpoint.rate_hz': expected 0 \(never\) or at least 0.000001 Hz.*; got 1e-300 \(number\)/,
    ],
    [
      'negative standing-question rate',
      { ...minimal, questions: ['q'], question: { q: { text: 'x?', cameras: ['left'], rate_hz: -1 } } },
      /key 'question.q.rate_hz': .*; got -1 \(number\)/,
    ],
    [
      'duration beyond the longest',
      { ...minimal, diagnostics: { stale_after_s: 1e300 } },
      /key 'diagnostics.stale_after_s': .*1000000.*; got 1e\+300 \(number\)/,
    ],
    [
      'request time limit beyond the longest',
      { ...minimal, model: { timeout_s: 2e6 } },
      /key 'model.timeout_s': .*1000000.*; got 2000000 \(number\)/,
    ],
    [
      'diagnostics faster than the tick',
      { ...minimal, diagnostics: { rate_hz: 20 } },
      /key 'diagnostics.rate_hz': .*10.*; got 20 \(number\)/,
    ],
    [
      'lower bounds of the wrong length',
      { ...minimal, pairing: { inter_message_lower_bound_s: [0.1] } },
      /needs one bound per camera \(2\) or none, got 1/,
    ],
  ])('rejects %s, naming the key and the value', (_name, params, pattern) => {
    const problems = problemsOf(() => parseConfig(params));
    expect(problems.join('\n')).toMatch(pattern);
  });

  it('rejects a model folder that does not exist, naming the path', () => {
    const problems = problemsOf(() => parseConfig({ ...minimal, model: { path: '/nonexistent/model' } }));
    expect(problems).toEqual(["key 'model.path': model folder '/nonexistent/model' does not exist"]);
  });

  it('applies -p style overrides with YAML values', () => {
    const params = applyOverrides(minimal, ['pairing.queue_size=3', 'cameras=[left]', 'viewpoint.yaw=true']);
    const config = parseConfig(params);
    expect(config.pairing.queue_size).toBe(3);
    expect(config.cameras).toEqual(['left']);
    expect(config.viewpoint.yaw).toBe(true);
  });

  it('names the file for unreadable and malformed files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'actial-config-'));
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, 'cameras: [left\n  camera: {');
    expect(problemsOf(() => loadConfigFile(bad))[0]).toMatch(/^not valid YAML/);
    expect(problemsOf(() => loadConfigFile(join(dir, 'none.yaml')))[0]).toMatch(/^cannot read file/);
  });
});
