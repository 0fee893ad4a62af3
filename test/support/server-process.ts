/**
 * Starts the real server as a user would (`node bin/smashsend.js serve`) in a child process,
 * on its own SQLite file (or the DATABASE_URL given), and talks to it over HTTP.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createTestDatabase, REDIS_URL, USES_REDIS, type TestDatabase } from '../../src/testing/test-database.js';

const ROOT = resolve(import.meta.dirname, '..', '..');
const BIN = join(ROOT, 'bin', 'smashsend.js');

export interface ServerProcessOptions {
  /** Extra environment (RATE_LIMIT_*, DEDUP_WINDOW_SECONDS, …). */
  env?: Record<string, string>;
  /** Defaults to `sqlite:<fresh temp dir>/smashsend.db`. */
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
  /** Stop if running and delete the temp directory. */
  dispose(): Promise<void>;
}

function waitForExit(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((res) => child.once('exit', (code) => res(code)));
}

export async function startServerProcess(opts: ServerProcessOptions = {}): Promise<ServerProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'smashsend-test-'));
  // Its own database: a SQLite file here, or a fresh PostgreSQL database when TEST_BACKEND=postgres.
  const db: TestDatabase | null = opts.databaseUrl ? null : await createTestDatabase();
  const databaseUrl = opts.databaseUrl ?? db!.url;
  let port = opts.port ?? 0;
  let out = '';
  let key = '';
  const baseEnv: Record<string, string> = {
    ...(process.env as Record<string, string>),
    DATABASE_URL: databaseUrl,
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    ...(USES_REDIS ? { REDIS_URL } : {}),
    ...opts.env,
  };

  const launch = async (): Promise<ChildProcess> => {
    const args = [BIN, 'serve'];
    if (opts.worker === false) args.push('--no-worker');
    const child = spawn(process.execPath, args, {
      env: { ...baseEnv, PORT: String(port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let errOut = '';
    child.stderr!.on('data', (d: Buffer) => {
      errOut += d.toString();
    });
    await new Promise<void>((res, rej) => {
      const timer = setTimeout(() => rej(new Error(`server did not start in time:\n${out}\n${errOut}`)), 30_000);
      const onData = (d: Buffer) => {
        out += d.toString();
        const k = /(sk_live_[A-Za-z0-9_-]+)/.exec(out);
        if (k && !key) key = k[1]!;
        const m = /Listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
        if (m) {
          port = Number(m[1]);
          clearTimeout(timer);
          res();
        }
      };
      child.stdout!.on('data', onData);
      child.once('exit', (code) => {
        clearTimeout(timer);
        rej(new Error(`server exited with ${code} before listening:\n${out}\n${errOut}`));
      });
    });
    return child;
  };

  const cli = (args: string[]) => {
    const r = spawnSync(process.execPath, [BIN, ...args], { env: baseEnv, encoding: 'utf8' });
    return { stdout: r.stdout, stderr: r.stderr, status: r.status };
  };

  const sp: ServerProcess = {
    url: '',
    port: 0,
    databaseUrl,
    key: '',
    child: await launch(),
    stdout: () => out,
    createKey(workspace, name = 'test') {
      const r = cli(['keys', 'create', '--workspace', workspace, '--name', name]);
      if (r.status !== 0) throw new Error(`keys create failed: ${r.stderr}`);
      const lines = r.stdout.trim().split('\n');
      return lines[lines.length - 1]!.trim();
    },
    cli,
    async stop() {
      if (sp.child.exitCode !== null || sp.child.signalCode !== null) return sp.child.exitCode;
      sp.child.kill('SIGTERM');
      return waitForExit(sp.child);
    },
    async kill9() {
      if (sp.child.exitCode !== null || sp.child.signalCode !== null) return;
      sp.child.kill('SIGKILL');
      await waitForExit(sp.child);
    },
    async restart() {
      sp.child = await launch();
    },
    async dispose() {
      await sp.kill9();
      rmSync(dir, { recursive: true, force: true });
      await db?.drop();
    },
  };
  sp.port = port;
  sp.url = `http://127.0.0.1:${port}`;
  if (!key) key = sp.createKey('default', 'test');
  sp.key = key;
  return sp;
}
