import { describe, expect, it } from 'vitest';
import { LIMITS } from './limits.js';
import type { ItemError, ValidEvent } from './types.js';
import { SINGLE_INVALID_EMAIL_MESSAGE, validateEvent, validateEventName } from './validate-event.js';

const NOW = Date.UTC(2025, 0, 1);

function base(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { event: 'user.signup', identify: { email: 'user@example.com' }, ...extra };
}

function valid(raw: unknown, now = NOW): ValidEvent {
  const r = validateEvent(raw, now);
  if (!r.ok) throw new Error(`expected valid, got ${JSON.stringify(r.error)}`);
  return r.value;
}

function errors(raw: unknown, now = NOW): ItemError[] {
  const r = validateEvent(raw, now);
  if (r.ok) throw new Error(`expected errors, got ${JSON.stringify(r.value)}`);
  return r.error;
}

const codes = (raw: unknown) => errors(raw).map((e) => e.code);

describe('validateEvent: a valid event', () => {
  it('normalises the minimal event', () => {
    expect(valid(base())).toEqual({
      event: 'user.signup',
      email: 'user@example.com',
      properties: null,
      traits: null,
      timestamp: NOW,
      clientTimestamp: false,
      messageId: null,
    });
  });

  it('keeps everything a full event carries', () => {
    const v = valid({
      event: 'purchase.completed',
      identify: { email: '  Customer@Example.COM ', traits: { firstName: 'John', isCustomer: true } },
      properties: { orderId: 'order_12345', amount: 99.99, items: ['product_1', 'product_2'] },
      timestamp: '2024-01-15T10:30:00Z',
      messageId: 'purchase_order_12345',
    });
    expect(v).toEqual({
      event: 'purchase.completed',
      email: 'customer@example.com',
      properties: { orderId: 'order_12345', amount: 99.99, items: ['product_1', 'product_2'] },
      traits: { firstName: 'John', isCustomer: true },
      timestamp: Date.UTC(2024, 0, 15, 10, 30),
      clientTimestamp: true,
      messageId: 'purchase_order_12345',
    });
  });

  it('ignores unknown top-level and identify keys', () => {
    expect(valid(base({ userId: 42, context: { ip: '1.2.3.4' }, identify: { email: 'a@b.co', phone: '1' } })).email).toBe(
      'a@b.co',
    );
  });
});

describe('validateEvent: not an object', () => {
  it.each([
    ['null', null],
    ['undefined', undefined],
    ['an array', [base()]],
    ['a string', 'user.signup'],
    ['a number', 1],
    ['a boolean', true],
  ])('refuses %s with one INVALID_EVENT error', (_name, raw) => {
    expect(errors(raw)).toEqual([{ code: 'INVALID_EVENT', message: 'Event must be an object' }]);
  });
});

describe('validateEventName / event', () => {
  const missing = { code: 'MISSING_EVENT_NAME', message: '"event" is required' };
  const notString = { code: 'INVALID_EVENT_NAME', message: '"event" must be a string' };
  const tooLong = { code: 'EVENT_NAME_TOO_LONG', message: 'Event name cannot exceed 60 characters' };
  const badChars = {
    code: 'INVALID_EVENT_NAME',
    message: 'Event name can only contain alphanumeric characters, underscores, hyphens, dots, and colons',
  };

  it('requires a name: absent, null and "" are missing', () => {
    expect(validateEventName(undefined)).toEqual(missing);
    expect(validateEventName(null)).toEqual(missing);
    expect(validateEventName('')).toEqual(missing);
    expect(errors({ identify: { email: 'a@b.co' } })).toEqual([missing]);
  });

  it.each([0, 1, true, false, {}, [], ['user.signup']])('refuses the non-string %j', (v) => {
    expect(validateEventName(v)).toEqual(notString);
  });

  it('allows 60 characters and refuses 61', () => {
    expect(validateEventName('a'.repeat(LIMITS.eventNameMaxChars))).toBeNull();
    expect(validateEventName('a'.repeat(61))).toEqual(tooLong);
  });

  it('checks the length before the characters', () => {
    expect(validateEventName(' '.repeat(61))).toEqual(tooLong);
    expect(validateEventName('é'.repeat(61))).toEqual(tooLong);
    expect(validateEventName(' '.repeat(60))).toEqual(badChars);
  });

  it('counts characters as code points', () => {
    expect(validateEventName('😀'.repeat(60))).toEqual(badChars); // 120 units, 60 characters
    expect(validateEventName('😀'.repeat(61))).toEqual(tooLong);
  });

  it('accepts every allowed character', () => {
    expect(validateEventName('ABCDEFGHIJKLMNOPQRSTUVWXYZ')).toBeNull();
    expect(validateEventName('abcdefghijklmnopqrstuvwxyz')).toBeNull();
    expect(validateEventName('0123456789_.:-')).toBeNull();
    expect(validateEventName('a')).toBeNull();
    expect(validateEventName('.')).toBeNull();
    expect(validateEventName('user.inactive_30_days')).toBeNull();
    expect(validateEventName('shop:cart-item.added_v2')).toBeNull();
  });

  it.each([' ', 'user signup', ' user.signup', 'user.signup ', 'user/signup', 'user@signup', 'user+x', 'é', 'user\n', 'a\u0000', '😀', 'ｕser', 'user,signup', 'user;signup', '*'])(
    'refuses %j',
    (name) => {
      expect(validateEventName(name)).toEqual(badChars);
    },
  );

  it('keeps the name case-sensitive, exactly as sent', () => {
    expect(valid(base({ event: 'User.Signup' })).event).toBe('User.Signup');
    expect(valid(base({ event: 'user.signup' })).event).toBe('user.signup');
  });
});

describe('validateEvent: identify and identify.email', () => {
  it('requires identify', () => {
    const e = { code: 'MISSING_IDENTIFY', message: '"identify" is required' };
    expect(errors({ event: 'x' })).toEqual([e]);
    expect(errors({ event: 'x', identify: null })).toEqual([e]);
  });

  it.each(['user@example.com', '', 1, true, [], [{ email: 'a@b.co' }]])('refuses identify = %j', (identify) => {
    expect(errors({ event: 'x', identify })).toEqual([{ code: 'MISSING_IDENTIFY', message: '"identify" must be an object' }]);
  });

  it('requires identify.email: absent, null, empty or blank', () => {
    const e = { code: 'MISSING_EMAIL', message: '"identify.email" is required' };
    for (const email of [undefined, null, '', '   ', '\t\n']) {
      expect(errors({ event: 'x', identify: { email } })).toEqual([e]);
    }
    expect(errors({ event: 'x', identify: {} })).toEqual([e]);
  });

  it.each([1, true, {}, ['a@b.co'], 'user', 'user@localhost', 'a b@example.com', 'a@b@c.com'])(
    'refuses the email %j with the batch message',
    (email) => {
      expect(errors({ event: 'x', identify: { email } })).toEqual([{ code: 'INVALID_EMAIL', message: 'Invalid email format' }]);
    },
  );

  it('exports the single endpoint message', () => {
    expect(SINGLE_INVALID_EMAIL_MESSAGE).toBe('"identify.email" must be a valid email');
  });

  it('normalises the email: trimmed and lower-cased', () => {
    expect(valid(base({ identify: { email: ' Jane@Example.COM ' } })).email).toBe('jane@example.com');
  });

  it('allows 254 characters and refuses 255', () => {
    const email = (n: number) => 'a'.repeat(n - '@example.com'.length) + '@example.com';
    expect(valid(base({ identify: { email: email(254) } })).email).toBe(email(254));
    expect(codes(base({ identify: { email: email(255) } }))).toEqual(['INVALID_EMAIL']);
  });
});

describe('validateEvent: properties', () => {
  it('treats absent, null and {} as null', () => {
    expect(valid(base()).properties).toBeNull();
    expect(valid(base({ properties: null })).properties).toBeNull();
    expect(valid(base({ properties: {} })).properties).toBeNull();
  });

  it.each(['x', '', 0, 1, true, false, [], [{ a: 1 }]])('refuses properties = %j', (properties) => {
    expect(errors(base({ properties }))).toEqual([{ code: 'INVALID_PROPERTIES', message: '"properties" must be an object' }]);
  });

  it('applies the bag limits with the Properties label', () => {
    expect(errors(base({ properties: { a: { b: { c: { d: 1 } } } } }))).toEqual([
      { code: 'PROPERTIES_TOO_DEEP', message: 'Properties exceed maximum depth of 3' },
    ]);
    expect(codes(base({ properties: JSON.parse('{"__proto__":{"x":1}}') }))).toEqual(['INVALID_PROPERTIES']);
    expect(valid(base({ properties: { a: { b: { c: 1 } } } })).properties).toEqual({ a: { b: { c: 1 } } });
  });

  it('reports one error for the field even when it breaks several limits', () => {
    expect(codes(base({ properties: { s: 'x'.repeat(1001), a: Array(101).fill(1), d: { e: { f: { g: 1 } } } } }))).toEqual([
      'STRING_TOO_LONG',
    ]);
  });

  it('keeps a property bag that holds only an empty object', () => {
    expect(valid(base({ properties: { a: {} } })).properties).toEqual({ a: {} });
  });
});

describe('validateEvent: identify.traits', () => {
  it('treats absent, null and {} as null', () => {
    expect(valid(base({ identify: { email: 'a@b.co' } })).traits).toBeNull();
    expect(valid(base({ identify: { email: 'a@b.co', traits: null } })).traits).toBeNull();
    expect(valid(base({ identify: { email: 'a@b.co', traits: {} } })).traits).toBeNull();
  });

  it.each(['x', 1, true, [], [{ a: 1 }]])('refuses traits = %j', (traits) => {
    expect(errors(base({ identify: { email: 'a@b.co', traits } }))).toEqual([
      { code: 'INVALID_TRAITS', message: '"identify.traits" must be an object' },
    ]);
  });

  it('applies the bag limits with the Traits label', () => {
    expect(errors(base({ identify: { email: 'a@b.co', traits: { a: { b: { c: { d: 1 } } } } } }))).toEqual([
      { code: 'PROPERTIES_TOO_DEEP', message: 'Traits exceed maximum depth of 3' },
    ]);
    expect(errors(base({ identify: { email: 'a@b.co', traits: JSON.parse('{"__proto__":1}') } }))).toEqual([
      { code: 'INVALID_TRAITS', message: 'Traits cannot contain the key "__proto__"' },
    ]);
  });

  it('limits properties and traits separately: 100 leaf keys each is fine', () => {
    const hundred = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, i]));
    const v = valid(base({ properties: hundred, identify: { email: 'a@b.co', traits: hundred } }));
    expect(Object.keys(v.properties ?? {})).toHaveLength(100);
    expect(Object.keys(v.traits ?? {})).toHaveLength(100);
  });

  it('still checks traits when the email is bad', () => {
    expect(codes(base({ identify: { email: 'nope', traits: 'x' } }))).toEqual(['INVALID_EMAIL', 'INVALID_TRAITS']);
  });
});

describe('validateEvent: timestamp', () => {
  it('defaults to the time of receipt when absent or null', () => {
    for (const raw of [base(), base({ timestamp: null })]) {
      const v = valid(raw, 1_700_000_000_123);
      expect(v.timestamp).toBe(1_700_000_000_123);
      expect(v.clientTimestamp).toBe(false);
    }
  });

  it('uses the client timestamp when given, in any accepted form', () => {
    for (const timestamp of ['2024-01-15T10:30:00Z', '2024-01-15T10:30', 1705314600, 1705314600000]) {
      const v = valid(base({ timestamp }));
      expect(v.timestamp).toBe(Date.UTC(2024, 0, 15, 10, 30));
      expect(v.clientTimestamp).toBe(true);
    }
  });

  it('refuses invalid and out-of-range timestamps', () => {
    expect(errors(base({ timestamp: '1705314600' }))).toEqual([
      { code: 'INVALID_TIMESTAMP', message: '"timestamp" must be an ISO 8601 string or a Unix timestamp' },
    ]);
    expect(codes(base({ timestamp: '' }))).toEqual(['INVALID_TIMESTAMP']);
    expect(codes(base({ timestamp: true }))).toEqual(['INVALID_TIMESTAMP']);
    expect(codes(base({ timestamp: {} }))).toEqual(['INVALID_TIMESTAMP']);
    expect(codes(base({ timestamp: NOW + LIMITS.timestampRangeMs + 1 }))).toEqual(['TIMESTAMP_OUT_OF_RANGE']);
    expect(valid(base({ timestamp: NOW + LIMITS.timestampRangeMs })).timestamp).toBe(NOW + LIMITS.timestampRangeMs);
  });
});

describe('validateEvent: messageId', () => {
  it('is null when absent or null', () => {
    expect(valid(base()).messageId).toBeNull();
    expect(valid(base({ messageId: null })).messageId).toBeNull();
  });

  it.each(['', 0, 1, true, {}, ['id']])('refuses messageId = %j', (messageId) => {
    expect(errors(base({ messageId }))).toEqual([{ code: 'INVALID_MESSAGE_ID', message: '"messageId" must be a non-empty string' }]);
  });

  it('allows 1 and 128 characters, refuses 129', () => {
    expect(valid(base({ messageId: 'x' })).messageId).toBe('x');
    expect(valid(base({ messageId: 'x'.repeat(128) })).messageId).toBe('x'.repeat(128));
    expect(errors(base({ messageId: 'x'.repeat(129) }))).toEqual([
      { code: 'MESSAGE_ID_TOO_LONG', message: 'Message ID cannot exceed 128 characters' },
    ]);
  });

  it('counts characters as code points', () => {
    expect(valid(base({ messageId: '😀'.repeat(128) })).messageId).toBe('😀'.repeat(128));
    expect(codes(base({ messageId: '😀'.repeat(129) }))).toEqual(['MESSAGE_ID_TOO_LONG']);
  });

  it('keeps the id exactly as sent (no trimming, any characters)', () => {
    expect(valid(base({ messageId: ' renewal 2024/01 ' })).messageId).toBe(' renewal 2024/01 ');
  });

  it.each(['a\ud800', '\udc00', 'x\udbff\udbffy'])('refuses a lone surrogate (%j): it has no UTF-8 form', (messageId) => {
    expect(errors(base({ messageId }))).toEqual([
      { code: 'INVALID_MESSAGE_ID', message: '"messageId" cannot contain lone surrogates (invalid Unicode)' },
    ]);
  });

  it('refuses a lone surrogate in the event name', () => {
    expect(codes(base({ event: 'a\ud800' }))).toEqual(['INVALID_EVENT_NAME']);
  });
});

describe('validateEvent: several errors', () => {
  it('reports one error per field in the order event, identify, properties, traits, timestamp, messageId', () => {
    expect(
      codes({
        messageId: '',
        timestamp: 'yesterday',
        properties: [],
        identify: { email: 'bad', traits: 1 },
        event: 'bad name',
      }),
    ).toEqual(['INVALID_EVENT_NAME', 'INVALID_EMAIL', 'INVALID_PROPERTIES', 'INVALID_TRAITS', 'INVALID_TIMESTAMP', 'INVALID_MESSAGE_ID']);
  });

  it('skips traits when identify itself is missing (one field)', () => {
    expect(codes({ event: '', properties: { a: { b: { c: { d: 1 } } } }, timestamp: -1e20, messageId: 'x'.repeat(200) })).toEqual([
      'MISSING_EVENT_NAME',
      'MISSING_IDENTIFY',
      'PROPERTIES_TOO_DEEP',
      'TIMESTAMP_OUT_OF_RANGE',
      'MESSAGE_ID_TOO_LONG',
    ]);
  });
});

describe('messageId control characters', () => {
  it('refuses U+0000 and other control characters, accepts printable ids', () => {
    const base = { event: 'e', identify: { email: 'a@b.co' } };
    for (const id of ['a\u0000b', 'tab\there', 'nl\n', 'del\u007f']) {
      const r = validateEvent({ ...base, messageId: id }, Date.UTC(2026, 0, 1));
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error[0]!.code).toBe('INVALID_MESSAGE_ID');
    }
    expect(validateEvent({ ...base, messageId: 'order 12/ü' }, Date.UTC(2026, 0, 1)).ok).toBe(true);
  });
});
