import { describe, expect, it } from 'vitest';
import { readMigrations, runMigrations, type Dialect, type MigrationFile } from './migrations.js';

function target(dialect: Dialect, current: number) {
  const applied: MigrationFile[] = [];
  return { applied, target: { dialect, currentVersion: () => current, apply: (m: MigrationFile) => void applied.push(m) } };
}

describe('runMigrations', () => {
  for (const dialect of ['sqlite', 'postgres'] as const) {
    const files = readMigrations(dialect);

    it(`${dialect}: numbered files in version order, from migrations/${dialect}`, () => {
      expect(files.length).toBeGreaterThan(0);
      expect(files.map((f) => f.version)).toEqual(files.map((_, i) => i + 1));
    });

    it(`${dialect}: applies every file above the current version, in order, and names them`, async () => {
      const fresh = target(dialect, 0);
      expect(await runMigrations(fresh.target, 1)).toEqual(files.map((f) => f.name));
      expect(fresh.applied.map((m) => m.version)).toEqual(files.map((f) => f.version));
      const current = target(dialect, files.length);
      expect(await runMigrations(current.target, 1)).toEqual([]);
    });

    it(`${dialect}: refuses a schema newer than this build knows, applying nothing`, async () => {
      const newer = target(dialect, files.length + 1);
      await expect(runMigrations(newer.target, 1)).rejects.toThrow(/newer than this build knows/);
      expect(newer.applied).toEqual([]);
    });
  }
});
