/** `smashsend users create`: the real CLI, on a real store. */
import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../src/storage/open-store.js';
import { createTestDatabase, type TestDatabase } from '../src/testing/test-database.js';
import { verifyPassword } from '../src/users/password.js';
import { BIN, cleanEnv, ROOT } from '../src/testing/cli.js';
import { call } from '../src/testing/http.js';
import { startServerProcess } from '../src/testing/server-process.js';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db.drop();
});

function cli(args: string[], input: string) {
  return spawnSync(process.execPath, [BIN, ...args], { env: cleanEnv({ DATABASE_URL: db.url }), cwd: ROOT, input, encoding: 'utf8', timeout: 30_000 });
}

describe('smashsend users create', () => {
  it('creates a user in each workspace, the password read from stdin and stored as scrypt', async () => {
    const r = cli(['users', 'create', '--email', 'Ann@Example.com', '--workspace', 'acme', '--workspace=beta', '--password-stdin'], 'a long password\n');
    expect(r.stderr).toContain('Created workspace "acme"');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/Created user usr_\w+ ann@example.com in "acme", "beta"\./);
    const again = cli(['users', 'create', '--email', 'ann@example.com', '--workspace', 'gamma', '--password-stdin'], 'another password\n');
    expect(again.status).toBe(0);
    expect(again.stdout).toMatch(/Updated user usr_\w+ ann@example.com in "acme", "beta", "gamma"\./);
    const store = await openStore(db.url);
    try {
      const u = await store.users.findUserByEmail('ann@example.com');
      expect(u?.passwordHash).toMatch(/^scrypt\$/);
      expect(await verifyPassword('another password', u!.passwordHash)).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('refuses a bad email, a short password and a missing --email', () => {
    expect(cli(['users', 'create', '--email', 'nope', '--password-stdin'], 'a long password\n').status).toBe(2);
    expect(cli(['users', 'create', '--password-stdin'], 'a long password\n').status).toBe(2);
    const short = cli(['users', 'create', '--email', 'bob@example.com', '--password-stdin'], 'short\n');
    expect(short.status).toBe(1);
    expect(short.stderr).toMatch(/8 to 256 characters/);
  });
});

describe('first start', () => {
  it('serve prints a one-time sign-in link while no user exists; opening it creates the first user, once', async () => {
    const sp = await startServerProcess();
    try {
      const link = /First sign-in[^\n]*\n {2}(http:\/\/\S+\/setup#token=([\w-]+))\n/.exec(sp.stdout());
      expect(link, sp.stdout()).not.toBeNull();
      const page = await fetch(link![1]!);
      expect(page.status).toBe(200);
      const r = await call(`${sp.url}/dashboard/api/setup`, { body: { token: link![2], email: 'owner@example.com', password: 'a long password' } });
      expect(r.status).toBe(200);
      expect(r.headers.get('set-cookie')).toMatch(/HttpOnly; SameSite=Lax/);
      expect((await call(`${sp.url}/dashboard/api/setup`, { body: { token: link![2], email: 'x@example.com', password: 'a long password' } })).status).toBe(401);
    } finally {
      await sp.dispose();
    }
  });
});
