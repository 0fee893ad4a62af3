import { describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../ports.js';
import { isRetryableConflict, isUniqueViolation, postgresFailure } from './errors.postgres.js';

const withCode = (code: string): Error => Object.assign(new Error('driver text we never read'), { code });

describe('postgresFailure', () => {
  it.each(['08000', '08003', '08006', '08001', '57P01', '57P02', '57P03', '53100', '53200', '53300', '57014', '55P03'])(
    'maps SQLSTATE %s to StoreUnavailableError',
    (code) => {
      const err = withCode(code);
      const mapped = postgresFailure(err);
      expect(mapped).toBeInstanceOf(StoreUnavailableError);
      expect((mapped as Error).cause).toBe(err);
    },
  );

  it.each(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EHOSTUNREACH'])('maps node error %s to StoreUnavailableError', (code) => {
    expect(postgresFailure(withCode(code))).toBeInstanceOf(StoreUnavailableError);
  });

  it('maps a failed connect to every address of a host (AggregateError) to StoreUnavailableError', () => {
    const agg = new AggregateError([withCode('ECONNREFUSED'), withCode('ECONNREFUSED')], 'x');
    expect(postgresFailure(agg)).toBeInstanceOf(StoreUnavailableError);
    expect(postgresFailure(new AggregateError([withCode('ECONNREFUSED'), withCode('23505')], 'x'))).not.toBeInstanceOf(StoreUnavailableError);
  });

  it.each(['23505', '42P01', '22P02', '40P01', '28P01', '3D000'])('leaves SQLSTATE %s as it is', (code) => {
    const err = withCode(code);
    expect(postgresFailure(err)).toBe(err);
  });

  it('treats a codeless error as unavailability only when the connection was lost', () => {
    const err = new Error('Connection terminated unexpectedly');
    expect(postgresFailure(err)).toBe(err);
    expect(postgresFailure(err, { connectionLost: true })).toBeInstanceOf(StoreUnavailableError);
    // The server answered with a SQLSTATE of its own: a configuration error, not an outage.
    const auth = withCode('28P01');
    expect(postgresFailure(auth, { connectionLost: true })).toBe(auth);
  });

  it('passes a StoreUnavailableError through and ignores non-errors', () => {
    const u = new StoreUnavailableError('x');
    expect(postgresFailure(u)).toBe(u);
    expect(postgresFailure(null)).toBeNull();
    expect(postgresFailure('text')).toBe('text');
  });
});

describe('isUniqueViolation and isRetryableConflict', () => {
  it('recognise codes, not messages', () => {
    expect(isUniqueViolation(withCode('23505'))).toBe(true);
    expect(isUniqueViolation(withCode('23503'))).toBe(false);
    expect(isUniqueViolation(new Error('duplicate key value violates unique constraint'))).toBe(false);
    expect(isRetryableConflict(withCode('40P01'))).toBe(true);
    expect(isRetryableConflict(withCode('40001'))).toBe(true);
    expect(isRetryableConflict(withCode('23505'))).toBe(false);
  });
});
