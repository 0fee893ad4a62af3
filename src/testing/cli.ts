/**
 * Runs the real CLI (`node bin/smashsend.js …`) in a child process, as an operator would, and
 * reports how long it took: a command that should fail fast but hangs is killed at `timeoutMs`
 * and reported with status null.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { eventually } from './eventually.js';

export const ROOT = resolve(import.meta.dirname, '..', '..');
export const BIN = join(ROOT, 'bin', 'smashsend.js');

export interface CliResult {
  status: number | null;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit. */
  ms: number;
}

export interface CliOptions {
  /** Replaces the environment's DATABASE_URL etc.; `undefined` values are removed. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  timeoutMs?: number;
}

/** The parent's environment without anything that would point the CLI at another store. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string | undefined> = { ...process.env, LOG_LEVEL: 'warn', ...extra };
  if (!('DATABASE_URL' in extra)) delete env.DATABASE_URL;
  if (!('REDIS_URL' in extra)) delete env.REDIS_URL;
  for (const k of Object.keys(env)) if (env[k] === undefined) delete env[k];
  return env as Record<string, string>;
}

export function runCli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const t0 = Date.now();
  const child = spawn(process.execPath, [BIN, ...args], { env: cleanEnv(opts.env), cwd: opts.cwd ?? ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 15_000);
  return new Promise((res) => {
    child.once('close', (code) => {
      clearTimeout(timer);
      res({ status: code, stdout, stderr, ms: Date.now() - t0 });
    });
  });
}

/** The lines of `text`, without empty ones. */
export const lines = (text: string) => text.split('\n').filter((l) => l.trim() !== '');

/**
 * Polls `fn` until `ok` or the deadline; returns the last value either way (the caller's
 * `expect` then shows what was seen instead of a timeout message).
 */
export async function until<T>(fn: () => Promise<T>, ok: (v: T) => boolean, ms: number): Promise<T> {
  let last!: T;
  try {
    await eventually(async () => ok((last = await fn())), { timeoutMs: ms, intervalMs: 50 });
  } catch {
    // the deadline passed: `last` is what the caller asserts on
  }
  return last;
}
