/**
 * Neither a port nor an adapter can drop out of the contract silently: every `*.port.ts`
 * has a suite in CONTRACT_SUITES, and every dialect has a runner in the default `vitest run`
 * that runs them all (runStoreContract also checks, on each adapter, that every suite ran).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../testing/server-process.js';
import { CONTRACT_SUITES } from './store.contract.js';

function portFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? portFiles(join(dir, e.name)) : e.name.endsWith('.port.ts') ? [relative(ROOT, join(dir, e.name))] : [],
  );
}

describe('storage contract coverage', () => {
  it('every port has a contract suite, and every suite names a port that exists', () => {
    const covered = CONTRACT_SUITES.map((s) => s.port);
    for (const port of portFiles(join(ROOT, 'src'))) expect(covered, `${port} has no contract suite`).toContain(port);
    for (const port of covered) expect(existsSync(join(ROOT, port)), port).toBe(true);
    expect(new Set(covered).size).toBe(covered.length);
  });

  it.each(['sqlite', 'postgres'])('the %s adapter has a runner of every suite in the default test run', (dialect) => {
    const runner = join(ROOT, 'src', 'storage', 'contract', `${dialect}.contract.test.ts`);
    expect(existsSync(runner)).toBe(true);
    expect(readFileSync(runner, 'utf8')).toMatch(/\brunStoreContract\(/);
  });
});
