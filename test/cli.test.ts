/**
 * Issue #14 items 2 and 10, with the real CLI in child processes: every command says which
 * store it opened, read-only commands never create one, one `serve` per SQLite file (a
 * standalone worker may run beside it), and the CLI's own messages and exit statuses
 * (0 ok, 1 failure, 2 usage).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SmashSend } from '../packages/sdk/src/index.js';
import { tempDirs } from '../src/testing/temp-dirs.js';
import { BACKEND } from '../src/testing/test-database.js';
import { lines, ROOT, runCli, until } from '../src/testing/cli.js';
import { call, ev } from '../src/testing/http.js';
import { startServerProcess, type ServerProcess } from '../src/testing/server-process.js';

const tempDir = tempDirs('smashsend-cli');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

describe('one store, wherever you stand (SQLite default path)', () => {
  it('read-only commands refuse to create a store, naming the absolute path; keys create says where it made one', async () => {
    const cwd = tempDir();
    const expected = join(cwd, 'data', 'smashsend.db');
    for (const args of [['keys', 'list'], ['keys', 'list', '--json'], ['keys', 'revoke', 'key_0123']]) {
      const r = await runCli(args, { cwd });
      expect(r.status, args.join(' ')).toBe(1);
      expect(lines(r.stderr), args.join(' ')).toEqual([`smashsend keys: no store at ${expected}: run from the project directory or set DATABASE_URL`]);
      expect(existsSync(join(cwd, 'data')), args.join(' ')).toBe(false);
    }

    const created = await runCli(['keys', 'create', '--workspace', 'acme', '--name', 'backend'], { cwd });
    expect(created.status).toBe(0);
    expect(lines(created.stderr)[0]).toBe(`Store: ${expected} (SQLite, new)`);
    expect(lines(created.stdout).at(-1)).toMatch(/^sk_live_[A-Za-z0-9_-]{32}$/);

    // A relative DATABASE_URL from another directory: the same absolute path, now existing.
    const listed = await runCli(['keys', 'list'], { cwd: join(cwd, 'data'), env: { DATABASE_URL: 'sqlite:./smashsend.db' } });
    expect(listed.status).toBe(0);
    expect(lines(listed.stderr)).toEqual([`Store: ${expected} (SQLite)`]);
    expect(listed.stdout).toContain('acme');
  });
});

describe.runIf(BACKEND === 'sqlite')('one serve per SQLite file', () => {
  let sp: ServerProcess;
  beforeAll(async () => {
    sp = await startServerProcess({ worker: false, env: { KEY_REFRESH_MS: '200' } });
  });
  afterAll(async () => {
    await sp.dispose();
  });

  it('a second serve (with or without worker) is refused while the first runs, naming its pid', async () => {
    const path = sp.databaseUrl.slice('sqlite:'.length);
    for (const args of [['serve'], ['serve', '--no-worker']]) {
      const r = await runCli(args, { env: { DATABASE_URL: sp.databaseUrl, PORT: '0', HOST: '127.0.0.1' } });
      expect(r.status, r.stderr).toBe(1);
      // Within 2 s of the start attempt (plus bare process start-up, slow on a loaded machine).
      expect(r.ms).toBeLessThan(2000 + (await runCli(['--version'])).ms);
      expect(lines(r.stderr)).toEqual([
        `smashsend serve: ${path} is in use by another smashsend serve (pid ${sp.child.pid}); stop it first, or set DATABASE_URL to another file (two servers appending to one SQLite file would break dedup)`,
      ]);
      expect(r.stdout).not.toContain('Listening');
    }
  });

  it('a standalone worker runs beside it and processes what it accepted', async () => {
    expect((await call(`${sp.url}/v1/events`, { key: sp.key, body: ev({ messageId: 'beside-1' }) })).status).toBe(200);
    const { spawn } = await import('node:child_process');
    const { BIN, cleanEnv } = await import('../src/testing/cli.js');
    const worker = spawn(process.execPath, [BIN, 'worker'], { env: cleanEnv({ DATABASE_URL: sp.databaseUrl, WORKER_POLL_MS: '20' }), stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    worker.stdout!.on('data', (d) => (out += d));
    try {
      const r = await until(() => call(`${sp.url}/v1/events/beside-1`, { key: sp.key }), (x) => x.body?.event?.status === 'processed', 15_000);
      expect(r.body.event.status).toBe('processed');
      expect(out).toMatch(/SMASHSEND worker worker_\w+ running/);
    } finally {
      worker.kill('SIGTERM');
      const code = await new Promise((res) => worker.once('exit', res));
      expect(code).toBe(0);
    }
  });

  it('after kill -9 the lock is gone with the process: the next serve starts, and its banner says how to get a key', async () => {
    await sp.kill9();
    const before = sp.stdout().length;
    await sp.restart();
    expect((await call(`${sp.url}/health`)).status).toBe(200);
    const banner = sp.stdout().slice(before);
    expect(banner).not.toMatch(/sk_live_/);
    expect(banner).toMatch(/API keys: 1 active .*New key: npx smashsend keys create --workspace default --name NAME/);
  });
});

describe('CLI manners', () => {
  let sp: ServerProcess;
  beforeAll(async () => {
    sp = await startServerProcess({ env: { KEY_REFRESH_MS: '200' } });
  });
  afterAll(async () => {
    await sp.dispose();
  });
  const cli = (args: string[]) => runCli(args, { env: { DATABASE_URL: sp.databaseUrl } });

  it('the banner prints the SDK baseUrl (the root, no /v1), and the SDK works with it as printed', async () => {
    const baseUrl = /SDK baseUrl: (\S+)/.exec(sp.stdout())?.[1];
    expect(baseUrl).toBe(sp.url);
    expect(baseUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const r = await new SmashSend(sp.key, { baseUrl: baseUrl! }).events.send({ event: 'banner.check', identify: { email: 'banner@example.com' } });
    expect(r.success).toBe(true);
  });

  it('--version, help alone exits 0 and documents the exit statuses', async () => {
    const v = await runCli(['--version']);
    expect(v.status).toBe(0);
    expect(v.stdout.trim()).toBe(VERSION);
    const bare = await runCli([]);
    expect(bare.status).toBe(0);
    expect(bare.stdout).toMatch(/^Usage: smashsend <command>/);
    expect(bare.stdout).toMatch(/Exit status: 0 ok, 1 failure .*, 2 usage error/s);
  });

  it('usage errors are one line of ours and exit 2', async () => {
    const cases: [string[], string][] = [
      [['keys', 'list', '--jsn'], 'smashsend keys: unknown option --jsn (see smashsend keys --help)'],
      [['serve', '--bogus'], 'smashsend serve: unknown option --bogus (see smashsend serve --help)'],
      [['keys', 'create', '--workspace'], 'smashsend keys: --workspace needs a value (see smashsend keys --help)'],
      [['keys', 'create', '--workspace', ''], 'smashsend keys: --workspace must not be empty (see smashsend keys --help)'],
      [['keys', 'create', '--name', '  '], 'smashsend keys: --name must not be empty (see smashsend keys --help)'],
      [['keys', 'revoke'], 'smashsend keys: keys revoke needs a key id or secret: smashsend keys revoke KEY (see smashsend keys --help)'],
      [['keys', 'revoke', 'a', 'b'], 'smashsend keys: unexpected argument "b" (see smashsend keys --help)'],
      [['bogus'], 'smashsend: unknown command "bogus" (see smashsend --help)'],
    ];
    for (const [args, message] of cases) {
      const r = await cli(args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(lines(r.stderr), args.join(' ')).toEqual([message]);
    }
    const listed = JSON.parse((await cli(['keys', 'list', '--json'])).stdout) as { workspace: string; name: string }[];
    expect(listed.map((k) => k.workspace)).not.toContain('');
    expect(listed.map((k) => k.name.trim())).not.toContain('');
  });

  it('keys create --publishable prints a pk_live_ key, listed with its kind, revoked by its secret', async () => {
    const made = await cli(['keys', 'create', '--workspace', 'browser', '--name', 'web', '--publishable']);
    expect(made.status).toBe(0);
    const secret = lines(made.stdout).at(-1)!;
    expect(secret).toMatch(/^pk_live_[A-Za-z0-9_-]{32}$/);
    expect(made.stderr).toMatch(/Created publishable key \(events only\) key_[0-9a-f]+ "web"/);
    const listed = (JSON.parse((await cli(['keys', 'list', '--json'])).stdout) as Record<string, unknown>[]).find((k) => k.workspace === 'browser')!;
    expect(listed).toMatchObject({ kind: 'publishable', prefix: secret.slice(0, 12) });
    const revoked = await cli(['keys', 'revoke', secret]);
    expect(revoked.status).toBe(0);
    expect(revoked.stdout).toContain(`Revoked ${listed.id as string}`);
  });

  it('keys create says when it created the workspace; revoking twice says so and exits 0; an unknown key exits 1', async () => {
    const first = await cli(['keys', 'create', '--workspace', 'manners', '--name', 'one']);
    expect(first.status).toBe(0);
    expect(lines(first.stderr)[1]).toMatch(/^Created workspace "manners" \(ws_[0-9a-f]+\)\.$/);
    const second = await cli(['keys', 'create', '--workspace', 'manners', '--name', 'two']);
    expect(second.stderr).not.toContain('Created workspace');
    const id = /Created key (key_[0-9a-f]+)/.exec(second.stderr)![1]!;

    const revoked = await cli(['keys', 'revoke', id]);
    expect(revoked.status).toBe(0);
    expect(revoked.stdout.trim()).toBe(`Revoked ${id} ("two", workspace "manners").`);
    const again = await cli(['keys', 'revoke', id]);
    expect(again.status).toBe(0);
    expect(again.stdout.trim()).toMatch(new RegExp(`^Key ${id} \\("two", workspace "manners"\\) was already revoked at \\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z; nothing changed\\.$`));
    const unknown = await cli(['keys', 'revoke', 'key_doesnotexist']);
    expect(unknown.status).toBe(1);
    expect(lines(unknown.stderr).at(-1)).toBe('smashsend keys: no key matches key_doesnotexist');
  });

  it('keys list --json, and last use recorded by the server (first use within KEY_REFRESH_MS)', async () => {
    const secret = sp.createKey('lastused', 'probe');
    const find = async () => {
      const r = await cli(['keys', 'list', '--json']);
      expect(r.status).toBe(0);
      return (JSON.parse(r.stdout) as Record<string, unknown>[]).find((k) => k.workspace === 'lastused')!;
    };
    const before = await find();
    expect(before).toEqual({
      id: expect.stringMatching(/^key_/),
      workspace: 'lastused',
      workspaceId: expect.stringMatching(/^ws_/),
      name: 'probe',
      kind: 'secret',
      prefix: secret.slice(0, 12),
      createdAt: expect.stringMatching(/Z$/),
      lastUsedAt: null,
      revokedAt: null,
    });
    const t0 = Date.now();
    expect((await call(`${sp.url}/v1/events`, { key: secret, body: ev() })).status).toBe(200);
    const after = await until(find, (k) => k.lastUsedAt !== null, 10_000);
    expect(Date.parse(after.lastUsedAt as string)).toBeGreaterThanOrEqual(t0 - 5);

    const table = await cli(['keys', 'list']);
    expect(lines(table.stdout)[0]!.split('\t')).toEqual(['ID', 'WORKSPACE', 'NAME', 'PREFIX', 'CREATED', 'LAST_USED', 'REVOKED']);
    const row = lines(table.stdout).find((l) => l.includes('\tlastused\t'))!.split('\t');
    expect(row[5]).toBe(after.lastUsedAt);
  });
});
