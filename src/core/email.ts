/**
 * Contact identity: the pragmatic address check of SPEC.md ("one `@`, a dotted
 * domain, no spaces, at most 254 characters", checked after trimming).
 * Pure.
 */
import { LIMITS } from './limits.js';
import { withinCodePoints } from './validate-properties.js';

// Whitespace (any Unicode space, which `\s` covers) and C0/DEL control characters.
// Control characters are not in the SPEC.md list, but an address holding one is never
// deliverable and U+0000 cannot be stored in a PostgreSQL text column, so rejecting
// them here keeps a malformed identity from reaching the store.
const FORBIDDEN = /[\s\u0000-\u001f\u007f]/;

/**
 * Returns the trimmed, lower-cased address, or `null` when it fails the check.
 * `Jane@Example.COM ` and `jane@example.com` both give `jane@example.com`: one contact.
 */
export function normalizeEmail(raw: string): string | null {
  const email = raw.trim();
  // Characters are code points, SPEC.md's unit everywhere.
  if (!withinCodePoints(email, LIMITS.emailMaxChars)) return null;
  if (FORBIDDEN.test(email)) return null;
  // A lone surrogate (`\ud800`) has no UTF-8 form: the store would write U+FFFD instead, and
  // `a\ud800@x.io` and `a\ud801@x.io` would become one contact.
  if (!email.isWellFormed()) return null;

  const at = email.indexOf('@');
  if (at <= 0 || at !== email.lastIndexOf('@')) return null; // none, empty local part, or several

  const domain = email.slice(at + 1);
  const labels = domain.split('.');
  if (labels.length < 2) return null; // not dotted
  for (const label of labels) if (label.length === 0) return null; // "a@.com", "a@b..c", "a@b.com."

  return email.toLowerCase();
}
