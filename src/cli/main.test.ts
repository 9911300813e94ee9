import { runCli } from '../../test/helpers/cli.js';

describe('actial exit codes', () => {
  it.each([
    ['an unknown option', ['eval', '--bogus'], "unknown option '--bogus'"],
    [
      'a value outside the choices',
      ['pairs', '--bag', 'x', '--topic', '/a', '--policy', 'nearest'],
      "'nearest' is invalid",
    ],
    ['a missing option value', ['eval', '--limit'], "option '--limit <n>' argument missing"],
    ['a missing required option', ['tiny-model'], "required option '-o, --out <dir>' not specified"],
    ['an unknown command', ['evaluate'], "unknown command 'evaluate'"],
  ])('a usage error (%s) exits 2, saying what', async (_name, args, message) => {
    const result = await runCli(args);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(message);
  });

  it.each(['--help', '--version', 'eval --help'])('%s exits 0', async (command) => {
    const result = await runCli(command.split(' '));
    expect(result.code).toBe(0);
    expect(result.stdout).not.toBe('');
  });
});
