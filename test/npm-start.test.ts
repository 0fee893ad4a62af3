/**
 * Issue #14 item 3: `npm start` under a supervisor. Docker (`CMD ["npm","start"]`) and
 * systemd signal the npm process, not the server; the server must get the signal, shut down
 * cleanly (exit 0) and free its port, never be left orphaned. And `npm start` must not
 * recompile an up-to-date build (scripts/build-if-stale.mjs).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDirs } from '../src/testing/temp-dirs.js';
import { cleanEnv, ROOT, until } from '../src/testing/cli.js';
import { call } from '../src/testing/http.js';

const tempDir = tempDirs('smashsend-npm-start');

/** Pids of live processes whose environment holds `marker` (Linux /proc). */
function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, 'latin1').includes(marker)) found.push(Number(name));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

function portIsFree(port: number): Promise<boolean> {
  return new Promise((res) => {
    const s = createServer();
    s.once('error', () => res(false));
    s.listen(port, '127.0.0.1', () => s.close(() => res(true)));
  });
}

/** `npm start` in the repository, as a supervisor runs it, in a process group of its own. */
async function npmStart(): Promise<{ npm: ChildProcess; url: string; port: number; marker: string; output: () => string }> {
  const marker = `SMASHSEND_TEST_MARK=${randomUUID()}`;
  const [k, v] = marker.split('=') as [string, string];
  const npm = spawn('npm', ['start'], {
    cwd: ROOT,
    env: cleanEnv({ DATABASE_URL: `sqlite:${join(tempDir(), 'smashsend.db')}`, PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', [k]: v }),
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true, // its own process group, as under systemd (one cgroup) or a terminal's job
  });
  let out = '';
  npm.stdout!.on('data', (d) => (out += d));
  npm.stderr!.on('data', (d) => (out += d));
  const listening = await until(async () => /Listening on (http:\/\/127\.0\.0\.1:(\d+))/.exec(out), (m) => m !== null || npm.exitCode !== null, 60_000);
  if (!listening) throw new Error(`npm start did not listen:\n${out}`);
  return { npm, url: listening[1]!, port: Number(listening[2]), marker, output: () => out };
}

/** A failed test must not leave its server behind: SIGKILL whatever still carries the marker. */
function killLeftovers(marker: string): void {
  for (const pid of processesWith(marker)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

const exited = (p: ChildProcess) =>
  p.exitCode !== null || p.signalCode !== null ? Promise.resolve(p.exitCode) : new Promise<number | null>((res) => p.once('exit', (code) => res(code)));

describe('npm start under a supervisor', () => {
  it('SIGTERM to the npm pid (Docker CMD ["npm","start"]) reaches the server: it exits 0, the port is free, nothing is orphaned', async () => {
    const { npm, url, port, marker, output } = await npmStart();
    try {
      expect((await call(`${url}/health`)).status).toBe(200);
      npm.kill('SIGTERM');
      expect(await exited(npm)).toBe(0);
      expect(await until(async () => processesWith(marker), (p) => p.length === 0, 5000)).toEqual([]);
      expect(await portIsFree(port)).toBe(true);
      expect(output()).toContain('"msg":"shutdown complete"');
    } finally {
      killLeftovers(marker);
    }
  });

  it('SIGTERM to the whole process group (systemd, Ctrl-C): the server gets it twice and still shuts down cleanly', async () => {
    const { npm, port, marker, output } = await npmStart();
    try {
      process.kill(-npm.pid!, 'SIGTERM'); // the group: npm, and the server it forwards its copy to
      expect(await exited(npm)).toBe(0);
      expect(await until(async () => processesWith(marker), (p) => p.length === 0, 5000)).toEqual([]);
      expect(await portIsFree(port)).toBe(true);
      expect(output()).toContain('"msg":"shutdown complete"');
    } finally {
      killLeftovers(marker);
    }
  });
});

describe('scripts/build-if-stale.mjs (npm prestart)', () => {
  const script = join(ROOT, 'scripts', 'build-if-stale.mjs');
  const run = (root: string) => spawnSync(process.execPath, [script, '--root', root], { encoding: 'utf8' });

  it('compiles a project without a build, then not again until a source changes', () => {
    const root = tempDir();
    mkdirSync(join(root, 'src'));
    symlinkSync(join(ROOT, 'node_modules'), join(root, 'node_modules'));
    writeFileSync(join(root, 'package.json'), '{"type":"module"}');
    writeFileSync(join(root, 'tsconfig.build.json'), JSON.stringify({ compilerOptions: { outDir: 'dist', rootDir: 'src', module: 'NodeNext', target: 'ES2022', skipLibCheck: true, types: [] }, include: ['src/**/*.ts'] }));
    writeFileSync(join(root, 'src', 'a.ts'), 'export const a: number = 1;\n');

    const first = run(root);
    expect(first.status, first.stderr).toBe(0);
    expect(first.stderr).toContain('compiling src/ → dist/ (no build yet)');
    expect(readFileSync(join(root, 'dist', 'a.js'), 'utf8')).toContain('export const a = 1');
    const builtAt = statSync(join(root, 'dist', 'a.js')).mtimeMs;

    const second = run(root);
    expect(second.status).toBe(0);
    expect(second.stderr.trim()).toBe('build is current (dist/ is newer than src/); not compiling');
    expect(statSync(join(root, 'dist', 'a.js')).mtimeMs).toBe(builtAt);

    const future = new Date(Date.now() + 5000); // mtime resolution and clock skew do not matter
    writeFileSync(join(root, 'src', 'a.test.ts'), '// tests are not compiled to dist/\n');
    utimesSync(join(root, 'src', 'a.test.ts'), future, future);
    expect(run(root).stderr).toContain('build is current');

    writeFileSync(join(root, 'src', 'a.ts'), 'export const a: number = 2;\n');
    utimesSync(join(root, 'src', 'a.ts'), future, future);
    const third = run(root);
    expect(third.status).toBe(0);
    expect(third.stderr).toContain('compiling src/ → dist/ (src/a.ts changed since the last build)');
    expect(readFileSync(join(root, 'dist', 'a.js'), 'utf8')).toContain('export const a = 2');
  });

  it('the repository: npm start does not recompile the current build', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.prestart).toBe('node scripts/build-if-stale.mjs');
    expect(pkg.scripts.build).toMatch(/^node scripts\/build-if-stale\.mjs --always/);
    expect(pkg.scripts.prepare).toBe('npm run build'); // a fresh clone builds on npm ci
    // --check only reports: a test must not rewrite the dist/ that other tests run.
    const r = spawnSync(process.execPath, [script, '--check', '--root', ROOT], { encoding: 'utf8' });
    expect(r.status, `${r.stderr} (run npm run build before the tests)`).toBe(0);
    expect(r.stderr.trim()).toBe('build is current (dist/ is newer than src/); not compiling');
  });
});
