import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

describe('docs/errors.md', () => {
  it('lists every code of the error catalogue and every item code', () => {
    const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
    const codes = new Set<string>();
    const src = readFileSync(new URL('../src/core/types.ts', import.meta.url), 'utf8');
    const itemBlock = src.slice(src.indexOf('export type ItemCode'), src.indexOf(';', src.indexOf('export type ItemCode')));
    for (const m of itemBlock.matchAll(/'([A-Z_]+)'/g)) codes.add(m[1]!);
    const errSrc = readFileSync(new URL('../src/http/errors.ts', import.meta.url), 'utf8');
    const codeBlock = errSrc.slice(errSrc.indexOf('export type ErrorCode'), errSrc.indexOf(';', errSrc.indexOf('export type ErrorCode')));
    for (const m of codeBlock.matchAll(/'([A-Z_]+)'/g)) codes.add(m[1]!);
    expect(codes.size).toBeGreaterThan(30);
    for (const code of codes) expect(doc, code).toContain(`\`${code}\``);
  });
});
