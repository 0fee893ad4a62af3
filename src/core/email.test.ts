import { describe, expect, it } from 'vitest';
import { normalizeEmail } from './email.js';

/** An address of exactly `n` characters: local part padded, domain "example.com". */
function addressOfLength(n: number, pad = 'a'): string {
  const domain = '@example.com';
  return pad.repeat(n - domain.length) + domain;
}

describe('normalizeEmail', () => {
  it('accepts a plain address and returns it unchanged', () => {
    expect(normalizeEmail('jane@example.com')).toBe('jane@example.com');
  });

  it('lower-cases local part and domain: one contact whatever the case', () => {
    expect(normalizeEmail('Jane@Example.COM')).toBe('jane@example.com');
    expect(normalizeEmail('JANE.DOE+Tag@Sub.Example.CO.UK')).toBe('jane.doe+tag@sub.example.co.uk');
  });

  it('trims surrounding whitespace of any kind before checking', () => {
    expect(normalizeEmail('  jane@example.com  ')).toBe('jane@example.com');
    expect(normalizeEmail('\t\njane@example.com\r\n')).toBe('jane@example.com');
    expect(normalizeEmail('\u00a0jane@example.com\u2003')).toBe('jane@example.com');
  });

  it('accepts a minimal dotted domain and non-ASCII characters', () => {
    expect(normalizeEmail('a@b.c')).toBe('a@b.c');
    expect(normalizeEmail('José@Exämple.com')).toBe('josé@exämple.com');
    expect(normalizeEmail("o'hara!#$%&*=?^_`{|}~-@example.com")).toBe("o'hara!#$%&*=?^_`{|}~-@example.com");
  });

  it('allows exactly 254 characters and refuses 255', () => {
    expect(addressOfLength(254)).toHaveLength(254);
    expect(normalizeEmail(addressOfLength(254))).toBe(addressOfLength(254));
    expect(normalizeEmail(addressOfLength(255))).toBeNull();
  });

  it('measures the length after trimming', () => {
    expect(normalizeEmail(`   ${addressOfLength(254)}   `)).toBe(addressOfLength(254));
    expect(normalizeEmail(`   ${addressOfLength(255)}   `)).toBeNull();
  });

  it('counts characters as code points: 254 astral characters pass, 255 fail', () => {
    // Each "😀" is 2 UTF-16 units but one character.
    const ok = '😀'.repeat(254 - '@example.com'.length) + '@example.com';
    const tooLong = '😀'.repeat(255 - '@example.com'.length) + '@example.com';
    expect(ok.length).toBeGreaterThan(254);
    expect(normalizeEmail(ok)).toBe(ok);
    expect(normalizeEmail(tooLong)).toBeNull();
  });

  it.each([
    ['empty', ''],
    ['whitespace only', '   '],
    ['no @', 'jane.example.com'],
    ['two @', 'jane@doe@example.com'],
    ['@ twice in a row', 'jane@@example.com'],
    ['empty local part', '@example.com'],
    ['empty domain', 'jane@'],
    ['undotted domain', 'jane@localhost'],
    ['leading dot in domain', 'jane@.example.com'],
    ['trailing dot in domain', 'jane@example.com.'],
    ['empty label inside domain', 'jane@example..com'],
    ['domain of dots only', 'jane@..'],
    ['space in local part', 'jane doe@example.com'],
    ['space in domain', 'jane@exa mple.com'],
    ['space around @', 'jane @example.com'],
    ['tab inside', 'jane\t@example.com'],
    ['newline inside', 'jane@example.com\nbcc@evil.com'],
    ['no-break space inside', 'jane\u00a0doe@example.com'],
    ['NUL inside', 'jane\u0000@example.com'],
    ['control character inside', 'jane\u0007@example.com'],
    ['DEL inside', 'jane\u007f@example.com'],
  ])('refuses %s', (_name, raw) => {
    expect(normalizeEmail(raw)).toBeNull();
  });

  it('refuses an address holding a lone surrogate, so two such addresses cannot merge', () => {
    expect(normalizeEmail('a\ud800@example.com')).toBeNull();
    expect(normalizeEmail('a@exa\udfffmple.com')).toBeNull();
    expect(normalizeEmail('a\ud83d\ude00@example.com')).toBe('a\ud83d\ude00@example.com');
  });
});
