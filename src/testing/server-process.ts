/**
 * The one launcher of child processes for tests and the bench: `node bin/smashsend.js …` as a
 * user runs it (serve, worker, keys, migrate), and the bench's other children (the ceiling
 * server, load generators). Every child is tracked until it exits, and killed if this
 * process exits first, so a failing test or a crashed bench never leaves a server running.
 *
 * The bench (plain .mjs) imports the compiled copy, dist/testing/server-process.js, which
 * `npm run build` emits (tsconfig.build.json lists this file): no vitest in here.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, REDIS_URL, USES_REDIS, type TestDatabase } from './test-database.js';

/** The package root (two levels above this file in src/ and dist/). */
export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'smashsend.js');

/** Output kept per stream: enough for a banner and a shutdown summary, bounded for long bench runs. */
const KEEP_CHARS = 65_536;

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ChildOptions {
  /** The child's whole environment (default: this process's). */
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /**
   * Leader of a process group of its own, signalled as a group (the bench: nothing a server
   * starts may outlive it, and Ctrl-C reaches the bench alone, which then stops everything).
   */
  group?: boolean;
  /** stdout/stderr inherited and an IPC channel open, as fork() does (the bench's load generators). */
  ipc?: boolean;
}

/** A running child with its output. */
export interface Child {
  readonly process: ChildProcess;
  readonly pid: number;
  /** Resolves once it has exited. */
  readonly exited: Promise<Exit>;
  running(): boolean;
  /** stdout and stderr as they arrived (the last 64 KiB). */
  output(): string;
  /** stdout alone (the last 64 KiB). */
  stdout(): string;
  /** Resolves with the match once the output matches; rejects if it exits first or after `timeoutMs`. */
  waitFor(re: RegExp, timeoutMs: number, what?: string): Promise<RegExpMatchArray>;
  /** SIGTERM, SIGKILL after `graceMs` (default 15 s); resolves once it has exited. */
  stop(graceMs?: number): Promise<Exit>;
  /** SIGKILL; resolves once it has exited. */
  kill9(): Promise<Exit>;
}

/** Every child started here, until it has exited, with whether it leads a group. */
const live = new Map<Child, boolean>();
let exitHookInstalled = false;

function signal(child: ChildProcess, group: boolean, sig: NodeJS.Signals): void {
  try {
    if (group && child.pid !== undefined) process.kill(-child.pid, sig);
    else child.kill(sig);
  } catch {
    // already gone
  }
}

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort if this process ends with children still running (an uncaught error,
  // process.exit): synchronous, as 'exit' handlers must be.
  process.on('exit', () => {
    for (const [c, group] of live) signal(c.process, group, 'SIGKILL');
  });
}

/** Starts `command args` as a tracked child. */
export function spawnChild(command: string, args: string[], opts: ChildOptions = {}): Child {
  installExitHook();
  const group = opts.group ?? false;
  const proc = spawn(command, args, {
    env: opts.env ?? process.env,
    cwd: opts.cwd,
    detached: group,
    stdio: opts.ipc ? ['ignore', 'inherit', 'inherit', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let stdout = '';
  const onOutput = new Set<() => void>();
  const keep = (text: string, s: string) => (s.length + text.length > KEEP_CHARS ? (s + text).slice(-KEEP_CHARS) : s + text);
  proc.stdout?.on('data', (d: Buffer) => {
    const t = d.toString();
    stdout = keep(t, stdout);
    output = keep(t, output);
    for (const f of onOutput) f();
  });
  proc.stderr?.on('data', (d: Buffer) => {
    output = keep(d.toString(), output);
    for (const f of onOutput) f();
  });
  const exited = new Promise<Exit>((res) => proc.once('exit', (code, sig) => res({ code, signal: sig })));
  const running = () => proc.exitCode === null && proc.signalCode === null;

  const child: Child = {
    process: proc,
    pid: proc.pid ?? -1,
    exited,
    running,
    output: () => output,
    stdout: () => stdout,
    waitFor(re, timeoutMs, what = `${command} ${args.join(' ')}`) {
      return new Promise((res, rej) => {
        let settled = false;
        const done = () => {
          settled = true;
          clearTimeout(timer);
          onOutput.delete(check);
          proc.off('exit', onExit);
        };
        const check = () => {
          const m = output.match(re);
          if (!m || settled) return;
          done();
          res(m);
        };
        const onExit = () => {
          if (settled) return;
          done();
          rej(new Error(`${what} exited before it was ready:\n${output.slice(-2000)}`));
        };
        const timer = setTimeout(() => {
          done();
          rej(new Error(`${what} not ready after ${timeoutMs} ms:\n${output.slice(-2000)}`));
        }, timeoutMs);
        onOutput.add(check);
        proc.once('exit', onExit);
        check();
        if (!running()) onExit();
      });
    },
    async stop(graceMs = 15_000) {
      if (!running()) {
        if (group) signal(proc, true, 'SIGKILL'); // stray members of an exited leader's group
        return exited;
      }
      signal(proc, group, 'SIGTERM');
      const force = setTimeout(() => signal(proc, group, 'SIGKILL'), graceMs);
      const r = await exited;
      clearTimeout(force);
      if (group) signal(proc, true, 'SIGKILL');
      return r;
    },
    async kill9() {
      signal(proc, group, 'SIGKILL');
      return exited;
    },
  };
  live.set(child, group);
  void exited.then(() => live.delete(child));
  return child;
}

/** Stops every tracked child still running (the bench's cleanup and SIGINT handler). */
export async function stopAll(graceMs = 5_000): Promise<void> {
  await Promise.all([...live.keys()].map((c) => c.stop(graceMs)));
}

export interface SmashsendOptions extends ChildOptions {
  /** Node options before the script (e.g. --cpu-prof). */
  nodeArgs?: string[];
  /** Output that means "ready" (e.g. the `Listening on …` banner). */
  ready: RegExp;
  readyTimeoutMs?: number;
  /** For error messages. */
  name?: string;
}

/**
 * `node [nodeArgs] bin/smashsend.js <args>`; resolves once its output matches `ready`. A child
 * that does not get ready in time is killed, and the rejection carries its output.
 */
export async function startSmashsend(args: string[], opts: SmashsendOptions): Promise<Child> {
  const child = spawnChild(process.execPath, [...(opts.nodeArgs ?? []), BIN, ...args], opts);
  try {
    await child.waitFor(opts.ready, opts.readyTimeoutMs ?? 30_000, opts.name ?? `smashsend ${args.join(' ')}`);
  } catch (err) {
    await child.kill9();
    throw err;
  }
  return child;
}

/** Runs a CLI command to completion (`keys create`, `migrate`, `--help`). */
export function runSmashsend(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): { stdout: string; stderr: string; status: number | null } {
  const r = spawnSync(process.execPath, [BIN, ...args], { env: opts.env ?? process.env, cwd: opts.cwd, encoding: 'utf8' });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

// ─── the test server process ────────────────────────────────────────────────────────────

export interface ServerProcessOptions {
  /** Extra environment (RATE_LIMIT_*, DEDUP_WINDOW_SECONDS, …). */
  env?: Record<string, string>;
  /** Defaults to a fresh test database (a SQLite file, or PostgreSQL when TEST_BACKEND=postgres), dropped by dispose(). */
  databaseUrl?: string;
  /** Port to listen on; default 0 (a free one, kept across restarts). */
  port?: number;
  /** Run the background worker in-process (default true, as `npm start` does). */
  worker?: boolean;
}

export interface ServerProcess {
  url: string;
  port: number;
  databaseUrl: string;
  /** The key printed on first start (workspace `default`). */
  key: string;
  child: ChildProcess;
  /** Everything the server printed on stdout, over its restarts. */
  stdout: () => string;
  /** Create another key through the CLI; returns the secret. */
  createKey(workspace: string, name?: string): string;
  /** Run any CLI command against the same store; returns stdout/stderr/status. */
  cli(args: string[]): { stdout: string; stderr: string; status: number | null };
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait for exit. */
  kill9(): Promise<void>;
  /** Start again on the same port and store (after stop or kill9). */
  restart(): Promise<void>;
  /** Stop if running and drop the database it was given by default. */
  dispose(): Promise<void>;
}

/**
 * Starts the real server as a user would (`node bin/smashsend.js serve`) on its own database
 * (or the DATABASE_URL given), for tests that talk HTTP to it and use its CLI.
 */
export async function startServerProcess(opts: ServerProcessOptions = {}): Promise<ServerProcess> {
  const db: TestDatabase | null = opts.databaseUrl ? null : await createTestDatabase();
  const databaseUrl = opts.databaseUrl ?? db!.url;
  let port = opts.port ?? 0;
  let earlier = '';
  const baseEnv: NodeJS.ProcessEnv = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    ...(USES_REDIS ? { REDIS_URL } : {}),
    ...opts.env,
  };

  const launch = async (): Promise<Child> => {
    const c = await startSmashsend(['serve', ...(opts.worker === false ? ['--no-worker'] : [])], {
      env: { ...baseEnv, PORT: String(port) },
      ready: /Listening on http:\/\/127\.0\.0\.1:(\d+)/,
      name: 'smashsend serve',
    });
    port = Number(/Listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(c.output())![1]);
    return c;
  };
  const cli = (args: string[]) => runSmashsend(args, { env: baseEnv });

  let current = await launch();
  const sp: ServerProcess = {
    url: `http://127.0.0.1:${port}`,
    port,
    databaseUrl,
    key: /(sk_live_[A-Za-z0-9_-]+)/.exec(current.stdout())?.[1] ?? '',
    child: current.process,
    stdout: () => earlier + current.stdout(),
    createKey(workspace, name = 'test') {
      const r = cli(['keys', 'create', '--workspace', workspace, '--name', name]);
      if (r.status !== 0) throw new Error(`keys create failed: ${r.stderr}`);
      const lines = r.stdout.trim().split('\n');
      return lines[lines.length - 1]!.trim();
    },
    cli,
    async stop() {
      return (await current.stop()).code;
    },
    async kill9() {
      await current.kill9();
    },
    async restart() {
      earlier += current.stdout();
      current = await launch();
      sp.child = current.process;
    },
    async dispose() {
      await current.kill9();
      await db?.drop();
    },
  };
  if (!sp.key) sp.key = sp.createKey('default', 'test');
  return sp;
}
