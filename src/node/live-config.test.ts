import { nodeTestConfig } from '../../test/helpers/node-frames.js';
import { flattenParameters, LIVE_PARAMETERS, planConfigUpdate } from './live-config.js';

const config = nodeTestConfig(['left', 'right']);

describe('flattenParameters', () => {
  it('turns nested objects into dotted keys and keeps arrays as values', () => {
    expect(flattenParameters({ viewpoint: { rate_hz: 2 }, 'tf.publish': true, questions: ['a'] })).toEqual([
      ['viewpoint.rate_hz', 2],
      ['tf.publish', true],
      ['questions', ['a']],
    ]);
  });
});

describe('planConfigUpdate', () => {
  it('applies every live key and leaves the input configuration untouched', () => {
    const plan = planConfigUpdate(config, {
      viewpoint: { rate_hz: 0.5, option_orders: 3, yaw: true },
      'model.timeout_s': 5,
      'diagnostics.stale_after_s': 4,
    });
    expect(plan.refused).toEqual([]);
    expect(plan.applied).toEqual([
      'viewpoint.rate_hz',
      'viewpoint.option_orders',
      'viewpoint.yaw',
      'model.timeout_s',
      'diagnostics.stale_after_s',
    ]);
    expect(plan.config.viewpoint).toMatchObject({ rate_hz: 0.5, option_orders: 3, yaw: true, enabled: true });
    expect(plan.config.model.timeout_s).toBe(5);
    expect(config.viewpoint.rate_hz).toBe(1);
  });

  it.each([
    ['model.path', 'the model is loaded when the node is configured'],
    ['model.device', 'the model is loaded when the node is configured'],
    ['pairing.max_interval_s', 'it changes how camera frames are synchronised'],
    ['cameras', 'it changes the subscriptions'],
    ['camera.left.topic', 'it changes the subscriptions'],
    ['auto_activate', 'it is read only when the node starts'],
    ['image.prepare_threads', 'the image threads start when the node is configured'],
    ['model.speed', "unknown parameter 'model.speed'"],
    ['colour', "unknown parameter 'colour'"],
  ])('refuses %s: %s', (key, reason) => {
    const plan = planConfigUpdate(config, { [key]: 1 });
    expect(plan.applied).toEqual([]);
    expect(plan.refused).toEqual([{ key, reason: expect.stringContaining(reason) }]);
    expect(plan.config).toBe(config);
  });

  it('refuses invalid values with the schema message, applying the valid keys', () => {
    const plan = planConfigUpdate(config, { 'viewpoint.option_orders': 9, 'viewpoint.rate_hz': 3 });
    expect(plan.applied).toEqual(['viewpoint.rate_hz']);
    expect(plan.refused).toEqual([
      {
        key: 'viewpoint.option_orders',
        reason: expect.stringMatching(/^key 'viewpoint.option_orders': .*<=6/),
      },
    ]);
    expect(plan.config.viewpoint.rate_hz).toBe(3);
    expect(plan.config.viewpoint.option_orders).toBe(1);
  });

  it('applies keys that depend on each other together', () => {
    const plan = planConfigUpdate(config, {
      questions: ['door'],
      'question.door.text': 'Is the door open?',
      'question.door.cameras': ['left'],
    });
    expect(plan.refused).toEqual([]);
    expect(plan.config.question.door).toEqual({
      text: 'Is the door open?',
      cameras: ['left'],
      choices: [],
      rate_hz: 0.2,
    });
    // Alone, the list refers to a question that does not exist.
    expect(planConfigUpdate(config, { questions: ['door'] }).refused).toEqual([
      { key: 'questions', reason: expect.stringContaining("question 'door' has no settings") },
    ]);
  });

  it('lists only keys the schema knows', () => {
    for (const key of LIVE_PARAMETERS) {
      const path = key.replace('<name>', 'door').split('.');
      let node: unknown = planConfigUpdate(config, {
        questions: ['door'],
        question: { door: { text: 'x', cameras: ['left'] } },
      }).config;
      for (const part of path) node = (node as Record<string, unknown>)[part];
      expect([key, node]).not.toEqual([key, undefined]);
    }
  });
});
