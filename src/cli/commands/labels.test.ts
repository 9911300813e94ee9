import { runCli } from '../../../test/helpers/cli.js';

/** Camera 1 in a ROS world (x forward, y left, z up): 1 m up, looking along +x. */
const C1 = '0 0 1 -0.5 0.5 -0.5 0.5';
/**
 * Camera 2 after orbiting 30 degrees to the right around an object 2 m ahead of camera 1:
 * position (2 - 2 cos 30, -2 sin 30, 1), looking back at the object (heading +30, a left turn).
 */
const C2_ORBIT_RIGHT_30 = '0.2679492 -1 1 -0.6123724 0.3535534 -0.3535534 0.6123724';

interface LabelsJson {
  egoTranslation: string;
  objectTranslation: string;
  yawRotation: string;
  yawDegrees: number;
  translation: { x: number; y: number; z: number };
  rotation: { x: number; y: number; z: number; w: number };
}

describe('actial labels', () => {
  it('--json: an orbit to the right moves right and turns left', async () => {
    const result = await runCli(['labels', '--pose1', C1, '--pose2', C2_ORBIT_RIGHT_30, '--json']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const labels = JSON.parse(result.stdout) as LabelsJson;
    expect(Object.keys(labels)).toEqual([
      'egoTranslation',
      'objectTranslation',
      'yawRotation',
      'yawDegrees',
      'translation',
      'rotation',
    ]);
    expect([labels.egoTranslation, labels.objectTranslation, labels.yawRotation]).toEqual([
      'right',
      'left',
      'left',
    ]);
    expect(labels.yawDegrees).toBeCloseTo(-30, 4);
    expect(labels.translation.x).toBeCloseTo(1, 6);
    expect(labels.translation.y).toBeCloseTo(0, 6);
    expect(labels.translation.z).toBeCloseTo(0.2679492, 6);
    // A pure yaw of -30 degrees about the optical +y axis.
    expect(labels.rotation.y).toBeCloseTo(-Math.sin(Math.PI / 12), 6);
    expect(labels.rotation.w).toBeCloseTo(Math.cos(Math.PI / 12), 6);
  });

  it('without --json: a readable summary on stderr, nothing on stdout', async () => {
    const result = await runCli(['labels', '--pose1', C1, '--pose2', C2_ORBIT_RIGHT_30]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('camera perspective: right');
    expect(result.stderr).toContain('yaw rotation:       left');
  });

  it.each([
    [['--preset', 'object-centric'], 'none'],
    [['--preset', 'robot-rig'], 'right'],
    [['--dead-zone', '0.01'], 'right'],
  ])('dead zones: a 3 cm sideways move with %j is %s', async (flags, label) => {
    const result = await runCli([
      'labels',
      '--pose1',
      '0 0 0 0 0 0 1',
      '--pose2',
      '0.03 0 0 0 0 0 1',
      '--json',
      ...flags,
    ]);
    expect(result.code).toBe(0);
    expect((JSON.parse(result.stdout) as LabelsJson).egoTranslation).toBe(label);
  });

  it.each([
    [['--pose1', C1, '--pose2', '1 0 0 0 0 1'], "pose2: expected 7 numbers 'x y z qx qy qz qw', got 6"],
    [['--pose1', '0 abc 0 0 0 0 1', '--pose2', C1], "pose1: y = 'abc' is not a finite number"],
    [['--pose1', '0 0 0 0 0 0 0', '--pose2', C1], 'pose1: quaternion norm 0'],
    [['--pose1', '0 0 0 1 1 1 1', '--pose2', C1], 'pose1: quaternion (1, 1, 1, 1) has norm 2, not 1'],
    [['--pose1', C1, '--pose2', C1, '--dead-zone', '-1'], "--dead-zone: expected a number >= 0, got '-1'"],
    [
      ['--pose1', C1, '--pose2', C1, '--yaw-dead-zone', 'ten'],
      "--yaw-dead-zone: expected a number in [0, 180), got 'ten'",
    ],
    [
      ['--pose1', C1, '--pose2', C1, '--preset', 'indoor'],
      "--preset: 'indoor' is not one of object-centric, robot-rig",
    ],
  ])('bad input %j: exit 2 and one line naming it', async (args, message) => {
    const result = await runCli(['labels', ...args, '--json']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr.startsWith(`actial: ${message}`)).toBe(true);
    expect(result.stderr.trimEnd().split('\n')).toHaveLength(1);
  });

  it('a missing pose is a usage error', async () => {
    const result = await runCli(['labels', '--pose1', C1]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("required option '--pose2 <pose>' not specified");
  });
});
