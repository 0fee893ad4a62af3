import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const read = (p: string) => readFileSync(join(ROOT, p), 'utf8');

describe('docs', () => {
  it('relative links of the README and docs/ point at files inside the repository', () => {
    for (const file of ['README.md', 'docs/errors.md', 'docs/failure-modes.md', 'docs/glossary.md']) {
      for (const [, target] of read(file).matchAll(/\]\(([^)#\s]+)(?:#[^)]*)?\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue;
        const abs = resolve(ROOT, dirname(file), target!);
        expect(relative(ROOT, abs).startsWith('..'), `${file} → ${target}`).toBe(false);
        expect(existsSync(abs), `${file} → ${target}`).toBe(true);
      }
    }
  });

  it('the README links the API document and the OpenAPI document, and says how to test without PostgreSQL', () => {
    const readme = read('README.md');
    expect(readme).toContain('(docs/events-api.txt)');
    expect(read('docs/events-api.txt')).toMatch(/^Events API/);
    expect(readme).toContain('/openapi.json');
    expect(readme).toContain('npm run test:sqlite');
    expect(readme).toContain("curl -s -w '%{http_code}\\n' http://127.0.0.1:3000/v1/events/batch");
    expect(readme).toContain('apiKeys.validate');
  });

  it('docs/errors.md explains empty bodies and query-string encoding', () => {
    const errors = read('docs/errors.md');
    expect(errors).toContain('## Empty bodies');
    expect(errors).toContain('## Query strings');
    expect(errors).toContain('%2B');
  });
});
