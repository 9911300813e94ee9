import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { repoRoot } from './helpers/cli.js';

const script = join(repoRoot, 'scripts', 'gpu', 'device-payload.sh');

/** `bash -c command` in `cwd`; its exit code and output. */
function sh(command: string, cwd: string, env: Record<string, string> = {}) {
  const result = spawnSync('bash', ['-c', command], {
    cwd,
    env: { ...process.env, ...env },
    encoding: 'utf8',
  });
  return { code: result.status, out: `${result.stdout}${result.stderr}` };
}

/**
 * `receive` on the GPU machine, with parts made as `pack` makes them (tar | xz | split, and a
 * manifest of the count and the stream's sha256) from a small folder instead of the runtime.
 */
describe('scripts/gpu/device-payload.sh receive', () => {
  let dir: string;
  let env: Record<string, string>;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'actial-payload-'));
    env = { PAYLOAD_DIR: join(dir, 'payload'), RUNTIME_DIR: join(dir, 'runtime') };
    const made = sh(
      [
        'mkdir -p stage carry && head -c 300000 /dev/urandom > stage/node && echo bundle > stage/engine-bench.mjs',
        'tar -C stage -cf - . | xz -0 | split -b 100k -d -a 2 - carry/payload.part.',
        'printf "parts=%s\\nsha256=%s\\n" "$(ls carry/payload.part.* | wc -l)" "$(cat carry/payload.part.* | sha256sum | cut -d" " -f1)" > carry/payload.manifest',
      ].join(' && '),
      dir,
    );
    expect(made.code).toBe(0);
  });

  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const parts = (): string[] =>
    readdirSync(join(dir, 'carry'))
      .filter((f) => f.startsWith('payload.part.'))
      .sort();
  const receive = (part: string) =>
    sh(
      `bash ${script} receive ${join(dir, 'carry', part)} ${join(dir, 'carry', 'payload.manifest')}`,
      dir,
      env,
    );

  it('unpacks once every part has arrived, in any order, and says how to run measure.sh', () => {
    const all = parts();
    expect(all.length).toBeGreaterThan(2);
    for (const [i, part] of [...all].reverse().entries()) {
      const result = receive(part);
      expect(result.code).toBe(0);
      if (i < all.length - 1) expect(result.out).toContain(`have ${i + 1} of ${all.length} parts`);
      else
        expect(result.out).toContain(
          `NODE=${env.RUNTIME_DIR}/node ENGINE_BUNDLE=${env.RUNTIME_DIR}/engine-bench.mjs`,
        );
    }
    expect(readFileSync(join(dir, 'runtime', 'engine-bench.mjs'), 'utf8')).toBe('bundle\n');
    expect(readFileSync(join(dir, 'runtime', 'node'))).toEqual(readFileSync(join(dir, 'stage', 'node')));
  });

  it('refuses parts whose sha256 is not the manifest one, naming both', () => {
    const [first = '', ...rest] = parts();
    const path = join(dir, 'carry', first);
    const bytes = readFileSync(path);
    bytes[1000] = (bytes[1000] ?? 0) ^ 0xff;
    writeFileSync(path, bytes);
    for (const part of rest) expect(receive(part).code).toBe(0);
    const result = receive(first);
    expect(result.code).toBe(3);
    expect(result.out).toMatch(/sha256 [0-9a-f]{64} of the \d+ parts is not the manifest's [0-9a-f]{64}/);
  });

  it.each([
    ['a part that does not exist', () => receive('payload.part.99'), 'part .*payload.part.99 does not exist'],
    [
      'a manifest pack did not write',
      () => {
        writeFileSync(join(dir, 'carry', 'payload.manifest'), 'hello\n');
        return receive(parts()[0] ?? '');
      },
      'manifest .* is not one pack wrote',
    ],
    [
      'a bad --part-mb',
      () => sh(`bash ${script} pack --part-mb 0`, dir, env),
      "--part-mb must be a positive integer, got '0'",
    ],
  ])('refuses %s', (_what, run, message) => {
    const result = run();
    expect(result.code).toBe(2);
    expect(result.out).toMatch(new RegExp(message));
  });
});
