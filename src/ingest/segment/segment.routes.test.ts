import { describe, expect, it } from 'vitest';
import { keyFromAuthorization } from './segment.routes.js';

describe('keyFromAuthorization', () => {
  const basic = (s: string) => `Basic ${Buffer.from(s).toString('base64')}`;

  it('Basic: the user name (the libraries send "key:"); Bearer: the token', () => {
    expect(keyFromAuthorization(basic('pk_live_abc:'))).toBe('pk_live_abc');
    expect(keyFromAuthorization(basic('sk_live_abc:ignored'))).toBe('sk_live_abc');
    expect(keyFromAuthorization(basic('sk_live_abc'))).toBe('sk_live_abc');
    expect(keyFromAuthorization('basic   ' + Buffer.from('k:').toString('base64'))).toBe('k');
    expect(keyFromAuthorization('Bearer sk_live_x')).toBe('sk_live_x');
  });

  it('no header is null (the key may be in the body); a malformed one is "" (a 401)', () => {
    expect(keyFromAuthorization(undefined)).toBeNull();
    expect(keyFromAuthorization('Digest x')).toBe('');
    expect(keyFromAuthorization('Basic ' + 'A'.repeat(401))).toBe('');
    expect(keyFromAuthorization('Basic !!!')).toBe('');
  });
});
