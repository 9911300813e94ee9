import { runTypeScript } from '../../test/helpers/cli.js';

describe('npm run bench options', () => {
  it.each(['-1', '1.5', 'two'])('refuses --prepare-threads %s, naming the value', async (value) => {
    const result = await runTypeScript('src/bench/main.ts', ['--only', 'none', '--prepare-threads', value]);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain(`not an integer >= 0: ${value}`);
  });

  it('takes --prepare-threads 2 (no suite selected: an empty JSON array)', async () => {
    const result = await runTypeScript('src/bench/main.ts', [
      '--only',
      'none',
      '--prepare-threads',
      '2',
      '--json',
    ]);
    expect(result.stderr).toBe('');
    expect([result.code, JSON.parse(result.stdout)]).toEqual([0, []]);
  });
});
