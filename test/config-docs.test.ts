/**
 * The README's configuration table against the one table of environment variables
 * (src/config/load-config.ts ENV_VARS): every variable is listed, with its default, and the
 * README lists none that the product does not read. `--help` is rendered from the same table.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENV_HELP, ENV_VARS, shownDefault } from '../src/config/load-config.js';

/** README rows of "## Configuration": variable name → the default cell written for it. */
function readmeDefaults(): Map<string, string> {
  const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
  const section = readme.slice(readme.indexOf('\n## Configuration\n'));
  const rows = section.slice(0, section.indexOf('\n## ', 1)).split('\n').filter((l) => l.startsWith('| `'));
  const out = new Map<string, string>();
  for (const row of rows) {
    const [names, defaults] = row.split(' | ').map((c) => c.replace(/^\| /, '').trim());
    const list = [...names!.matchAll(/`([A-Z0-9_]+)`/g)].map((m) => m[1]!);
    // A row of several variables gives their defaults in the same order, comma-separated.
    const cells = list.length > 1 ? defaults!.split(', ') : [defaults!];
    expect(cells, row).toHaveLength(list.length);
    list.forEach((name, i) => out.set(name, cells[i]!.replace(/`/g, '')));
  }
  return out;
}

describe('configuration docs', () => {
  const readme = readmeDefaults();

  it('the README lists every environment variable with its default', () => {
    const wrong: string[] = [];
    for (const v of ENV_VARS) {
      const cell = readme.get(v.name);
      // The README may add a gloss after the default: "25165824 (24 MiB)", "100 (SQLite) or 500 (PostgreSQL)".
      const want = v.default === null ? shownDefault(v) : String(v.default);
      if (cell === undefined) wrong.push(`${v.name}: missing from the README`);
      else if (!(cell === want || cell.startsWith(`${want} `) || (v.default === null && cell === 'unset'))) wrong.push(`${v.name}: README says ${JSON.stringify(cell)}, the default is ${JSON.stringify(want)}`);
    }
    expect(wrong).toEqual([]);
  });

  it('the README lists no variable the product does not read', () => {
    const known = new Set(ENV_VARS.map((v) => v.name));
    expect([...readme.keys()].filter((n) => !known.has(n))).toEqual([]);
  });

  it('--help lists every variable, with its default where it has one', () => {
    expect(ENV_HELP.map(([n]) => n)).toEqual(ENV_VARS.map((v) => v.name));
    for (const v of ENV_VARS) if (v.help.includes('{default}')) expect(ENV_HELP.find(([n]) => n === v.name)![1]).toContain(shownDefault(v));
    for (const [, text] of ENV_HELP) expect(text).not.toContain('{default}');
  });
});
