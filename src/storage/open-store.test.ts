import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { storeLocation } from './open-store.js';

describe('storeLocation (the Store: line of every CLI command)', () => {
  it('is the absolute path of a SQLite file, relative paths resolved from the working directory', () => {
    expect(storeLocation('sqlite:./data/smashsend.db')).toEqual({ kind: 'sqlite', location: resolve('data/smashsend.db') });
    expect(storeLocation('sqlite:/srv/x.db')).toEqual({ kind: 'sqlite', location: '/srv/x.db' });
  });

  it('is a PostgreSQL URL without its password', () => {
    expect(storeLocation('postgres://app:s3cret@db.internal:5432/smashsend')).toEqual({
      kind: 'postgres',
      location: 'postgres://app:***@db.internal:5432/smashsend',
    });
    expect(storeLocation('postgres://app@db.internal/smashsend').location).toBe('postgres://app@db.internal/smashsend');
  });
});
