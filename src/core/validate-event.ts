/**
 * One event of `POST /v1/events` or one item of `POST /v1/events/batch` (SPEC.md
 * "Events endpoints"): validated and normalised into a ValidEvent. Pure: `now` is the
 * time of receipt. At most one error per field, in a fixed order, so a client fixing
 * its payload sees every broken field at once.
 */
import { normalizeEmail } from './email.js';
import { LIMITS } from './limits.js';
import { parseTimestamp } from './timestamp.js';
import type { ItemError, JsonObject, Result, ValidEvent } from './types.js';
import { checkPropertyBag, isPlainObject, withinCodePoints } from './validate-properties.js';

/** The batch item message for a bad address (from the source document's batch example). */
export const INVALID_EMAIL_MESSAGE = 'Invalid email format';
/** The single endpoint's message for the same error (the source document's 400 example). */
export const SINGLE_INVALID_EMAIL_MESSAGE = '"identify.email" must be a valid email';

const EVENT_NAME_CHARS = /^[A-Za-z0-9_.:-]+$/;

export function validateEventName(v: unknown): ItemError | null {
  if (v === undefined || v === null || v === '') return { code: 'MISSING_EVENT_NAME', message: '"event" is required' };
  if (typeof v !== 'string') return { code: 'INVALID_EVENT_NAME', message: '"event" must be a string' };
  // Length before charset, so a long name gets the length message whatever it contains.
  if (!withinCodePoints(v, LIMITS.eventNameMaxChars)) {
    return { code: 'EVENT_NAME_TOO_LONG', message: `Event name cannot exceed ${LIMITS.eventNameMaxChars} characters` };
  }
  if (!EVENT_NAME_CHARS.test(v)) {
    return {
      code: 'INVALID_EVENT_NAME',
      message: 'Event name can only contain alphanumeric characters, underscores, hyphens, dots, and colons',
    };
  }
  return null;
}

// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

export function validateEvent(raw: unknown, now: number): Result<ValidEvent, ItemError[]> {
  if (!isPlainObject(raw)) return { ok: false, error: [{ code: 'INVALID_EVENT', message: 'Event must be an object' }] };
  const errors: ItemError[] = [];

  const nameError = validateEventName(raw.event);
  if (nameError !== null) errors.push(nameError);

  // identify and identify.email are one field: a missing identify says nothing of the email.
  let email: string | null = null;
  let rawTraits: unknown = undefined;
  const identify = raw.identify;
  if (identify === undefined || identify === null) {
    errors.push({ code: 'MISSING_IDENTIFY', message: '"identify" is required' });
  } else if (!isPlainObject(identify)) {
    errors.push({ code: 'MISSING_IDENTIFY', message: '"identify" must be an object' });
  } else {
    rawTraits = identify.traits;
    const rawEmail = identify.email;
    if (rawEmail === undefined || rawEmail === null || (typeof rawEmail === 'string' && rawEmail.trim() === '')) {
      errors.push({ code: 'MISSING_EMAIL', message: '"identify.email" is required' });
    } else {
      email = typeof rawEmail === 'string' ? normalizeEmail(rawEmail) : null;
      if (email === null) errors.push({ code: 'INVALID_EMAIL', message: INVALID_EMAIL_MESSAGE });
    }
  }

  const properties = checkBag(raw.properties, 'Properties', '"properties" must be an object', errors);
  const traits = checkBag(rawTraits, 'Traits', '"identify.traits" must be an object', errors);

  let timestamp = now;
  let clientTimestamp = false;
  if (raw.timestamp !== undefined && raw.timestamp !== null) {
    const t = parseTimestamp(raw.timestamp, now);
    if (t.ok) {
      timestamp = t.value;
      clientTimestamp = true;
    } else {
      errors.push(t.error);
    }
  }

  let messageId: string | null = null;
  const rawMessageId = raw.messageId;
  if (rawMessageId !== undefined && rawMessageId !== null) {
    if (typeof rawMessageId !== 'string' || rawMessageId === '') {
      errors.push({ code: 'INVALID_MESSAGE_ID', message: '"messageId" must be a non-empty string' });
    } else if (!withinCodePoints(rawMessageId, LIMITS.messageIdMaxChars)) {
      errors.push({
        code: 'MESSAGE_ID_TOO_LONG',
        message: `Message ID cannot exceed ${LIMITS.messageIdMaxChars} characters`,
      });
    } else if (CONTROL_CHARS.test(rawMessageId)) {
      // Ids travel in URLs (GET /v1/events/:messageId) and PostgreSQL text rejects U+0000.
      errors.push({ code: 'INVALID_MESSAGE_ID', message: '"messageId" cannot contain control characters' });
    } else if (!rawMessageId.isWellFormed()) {
      // A lone surrogate has no UTF-8 form: both stores would write U+FFFD, so `a\ud800` and
      // `a\ud801` would be one id and the second event a false duplicate.
      errors.push({ code: 'INVALID_MESSAGE_ID', message: '"messageId" cannot contain lone surrogates (invalid Unicode)' });
    } else {
      messageId = rawMessageId;
    }
  }

  if (errors.length > 0 || email === null) return { ok: false, error: errors };
  return {
    ok: true,
    // The name passed validateEventName, so it is a string.
    value: { event: raw.event as string, email, properties, traits, timestamp, clientTimestamp, messageId },
  };
}

/**
 * An optional bag: absent or null is null; `{}` is also null, so that `{}` and absent
 * are one event for the messageId and change nothing on the contact (SPEC.md).
 */
function checkBag(
  value: unknown,
  label: 'Properties' | 'Traits',
  notObjectMessage: string,
  errors: ItemError[],
): JsonObject | null {
  if (value === undefined || value === null) return null;
  if (!isPlainObject(value)) {
    errors.push({ code: label === 'Properties' ? 'INVALID_PROPERTIES' : 'INVALID_TRAITS', message: notObjectMessage });
    return null;
  }
  const e = checkPropertyBag(value, label);
  if (e !== null) {
    errors.push(e);
    return null;
  }
  return isEmpty(value) ? null : value;
}

function isEmpty(o: JsonObject): boolean {
  for (const key in o) if (Object.prototype.hasOwnProperty.call(o, key)) return false;
  return true;
}
