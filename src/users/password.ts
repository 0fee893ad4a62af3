/**
 * Password hashes: scrypt (node:crypto), N = 2^15, r = 8, p = 1, 16-byte salt, 32-byte key,
 * stored as `scrypt$N$r$p$salt$key` (base64url) so the cost can rise later without a
 * migration. N = 2^15 takes ~60 ms on the 2-core test machine and 32 MiB of memory per hash:
 * slow enough against offline guessing, and sign-in attempts are rate-limited besides.
 */
import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from 'node:crypto';

const N = 32768;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;
// scrypt needs 128 · N · r bytes; Node's default maxmem (32 MiB) is exactly that, so leave room.
const MAXMEM = 64 * 1024 * 1024;

/** Shortest and longest password accepted (a pasted passphrase fits; a 1 MB one is refused). */
export const PASSWORD_LIMITS = { min: 8, max: 256 } as const;

function derive(password: string, salt: Buffer, opts: ScryptOptions, keyLength: number): Promise<Buffer> {
  return new Promise((resolve, reject) => scrypt(password.normalize('NFKC'), salt, keyLength, opts, (err, key) => (err ? reject(err) : resolve(key))));
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await derive(password, salt, { N, r: R, p: P, maxmem: MAXMEM }, KEY_LENGTH);
  return `scrypt$${N}$${R}$${P}$${salt.toString('base64url')}$${key.toString('base64url')}`;
}

/** A hash of nothing, verified against when the email is unknown: the answer takes as long either way. */
let dummy: Promise<string> | null = null;

export async function verifyPassword(password: string, stored: string | null): Promise<boolean> {
  if (stored === null) {
    dummy ??= hashPassword(randomBytes(16).toString('hex'));
    await verifyPassword(password, await dummy);
    return false;
  }
  const parts = stored.split('$');
  if (parts.length !== 6 || parts[0] !== 'scrypt') return false;
  const [, n, r, p, salt, key] = parts as [string, string, string, string, string, string];
  const expected = Buffer.from(key, 'base64url');
  const got = await derive(password, Buffer.from(salt, 'base64url'), { N: Number(n), r: Number(r), p: Number(p), maxmem: MAXMEM }, expected.length);
  return got.length === expected.length && timingSafeEqual(got, expected);
}
