import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** tsx's loader by absolute URL: `--import tsx` would resolve from the working directory, which need not be the repo. */
const tsxLoader = pathToFileURL(createRequire(`${repoRoot}package.json`).resolve('tsx')).href;

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

export interface RunCliOptions {
  /** Working directory (default: the repository); may be anywhere, e.g. an empty temp folder as a user's would be. */
  readonly cwd?: string;
  /** Extra environment variables. */
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutMs?: number;
}

/** Runs the real `actial` CLI (TypeScript sources through tsx) in a subprocess. */
export function runCli(args: readonly string[], options: RunCliOptions = {}): Promise<CliResult> {
  return runTypeScript('src/cli/main.ts', args, options);
}

/** Runs a TypeScript entry point of the repository (`script`, relative to it) through tsx in a subprocess. */
export function runTypeScript(
  script: string,
  args: readonly string[],
  options: RunCliOptions = {},
): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', tsxLoader, `${repoRoot}${script}`, ...args], {
      cwd: options.cwd ?? repoRoot,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: options.timeoutMs ?? 120_000,
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A CLI subprocess started by {@link startCli}. */
export interface CliProcess {
  readonly child: ChildProcess;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves once stdout or stderr matches `pattern`; rejects when the process exits first or after `timeoutMs`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  /** Resolves when the process has exited, with its code (or the signal that killed it) and output. */
  readonly exited: Promise<CliResult & { readonly signal: NodeJS.Signals | null; readonly exitedAt: number }>;
}

/**
 * Starts a command (default: the real `actial` CLI through tsx) and hands back the running process,
 * to signal it mid-run (e.g. once it prints progress). `exitedAt` is `performance.now()` at exit.
 */
export function startCli(
  args: readonly string[],
  options: RunCliOptions & { readonly script?: string; readonly nodeArgs?: readonly string[] } = {},
): CliProcess {
  const script = options.script ?? `${repoRoot}src/cli/main.ts`;
  const child = spawn(
    process.execPath,
    ['--import', tsxLoader, ...(options.nodeArgs ?? []), script, ...args],
    {
      cwd: options.cwd ?? repoRoot,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  const listeners = new Set<() => void>();
  const changed = (): void => {
    for (const listener of [...listeners]) listener();
  };
  child.stdout?.on('data', (d: Buffer) => {
    stdout += d.toString();
    changed();
  });
  child.stderr?.on('data', (d: Buffer) => {
    stderr += d.toString();
    changed();
  });
  const limit = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 180_000);
  const exited = new Promise<CliResult & { signal: NodeJS.Signals | null; exitedAt: number }>(
    (resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code, signal) => {
        clearTimeout(limit);
        changed();
        resolve({ code, signal, stdout, stderr, exitedAt: performance.now() });
      });
    },
  );
  let done = false;
  void exited.then(() => (done = true));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    exited,
    waitFor: (pattern, timeoutMs = 120_000) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const match = stdout.match(pattern) ?? stderr.match(pattern);
          if (match) finish(() => resolve(match));
          else if (done || child.exitCode !== null)
            finish(() => reject(new Error(`the process exited before printing ${pattern}:\n${stderr}`)));
        };
        const timer = setTimeout(
          () => finish(() => reject(new Error(`no ${pattern} within ${timeoutMs} ms:\n${stderr}`))),
          timeoutMs,
        );
        const finish = (settle: () => void): void => {
          clearTimeout(timer);
          listeners.delete(check);
          settle();
        };
        listeners.add(check);
        check();
      }),
  };
}
