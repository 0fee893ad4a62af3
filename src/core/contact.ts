/** Contact property vocabulary shared by the API, the worker and every adapter. Pure. */
import type { JsonValue } from './types.js';

export const STANDARD_PROPERTIES = [
  'email',
  'firstName',
  'lastName',
  'avatarUrl',
  'birthday',
  'city',
  'countryCode',
  'language',
  'phone',
  'status',
] as const;

const STANDARD = new Set<string>(STANDARD_PROPERTIES);

export function isStandardProperty(name: string): boolean {
  return STANDARD.has(name);
}

export const DEFAULT_CONTACT_STATUS = 'SUBSCRIBED';

/** The type reported by GET /v1/contacts/properties for a custom property value. */
export function propertyType(value: JsonValue): 'string' | 'number' | 'boolean' | 'array' | 'object' | 'null' {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  const t = typeof value;
  if (t === 'string' || t === 'number' || t === 'boolean') return t;
  return 'object';
}
