/** `smashsend workflows …` against a real server's store: apply (create, then update by name), list, show, pause, activate, help. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServerProcess, type ServerProcess } from '../src/testing/server-process.js';
import { call } from '../src/testing/http.js';

let sp: ServerProcess;
let dir: string;

beforeAll(async () => {
  sp = await startServerProcess();
  dir = mkdtempSync(join(tmpdir(), 'wf-cli-'));
});
afterAll(async () => {
  await sp?.dispose();
  rmSync(dir, { recursive: true, force: true });
});

describe('smashsend workflows', () => {
  it('apply creates, then updates by name (a new version); list, show, pause, activate', async () => {
    const file = join(dir, 'welcome.json');
    const body = { name: 'Welcome', trigger: { event: 'user.signup' }, steps: [{ id: 'w', type: 'wait', duration: '1h' }] };
    writeFileSync(file, JSON.stringify(body));
    const created = sp.cli(['workflows', 'apply', file]);
    expect(created.status, created.stderr).toBe(0);
    const id = /workflow (wf_\S+)/.exec(created.stdout)![1]!;
    expect(created.stdout).toContain('version 1');
    writeFileSync(file, JSON.stringify({ ...body, steps: [{ id: 'w', type: 'wait', duration: '2h' }] }));
    const updated = sp.cli(['workflows', 'apply', file]);
    expect(updated.stdout).toContain(`Updated workflow ${id}`);
    expect(updated.stdout).toContain('version 2');
    expect(sp.cli(['workflows', 'list']).stdout).toMatch(new RegExp(`${id}\\t2\\tactive\\tevent user.signup\\tWelcome`));
    expect(JSON.parse(sp.cli(['workflows', 'show', id]).stdout)).toMatchObject({ id, version: 2, steps: [{ duration: '2h' }] });
    expect(sp.cli(['workflows', 'pause', id]).stdout).toContain('is paused');
    expect((await call(`${sp.url}/v1/workflows/${id}`, { key: sp.key })).body.workflow.status).toBe('paused');
    expect(sp.cli(['workflows', 'activate', id]).stdout).toContain('is active');
    expect(sp.cli(['workflows', 'show', 'wf_missing']).status).toBe(1);
  });

  it('refuses an invalid file with the path of the error; --help lists every command', () => {
    const file = join(dir, 'bad.json');
    writeFileSync(file, JSON.stringify({ name: 'Bad', trigger: { event: 'x', where: { property: 'contact.a', op: 'nope' } }, steps: [] }));
    const r = sp.cli(['workflows', 'apply', file]);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('trigger.where');
    const help = sp.cli(['workflows', '--help']);
    expect(help.status).toBe(0);
    for (const c of ['list', 'show', 'pause', 'activate', 'apply']) expect(help.stdout).toContain(`smashsend workflows ${c}`);
    expect(sp.cli(['workflows', 'frobnicate']).status).toBe(2);
  });
});
