/** The read API's wire shape of a stored event (SPEC.md, Read APIs). */
import { iso } from '../http/paging.js';
import type { StoredEvent } from './event-reader.port.js';

export function presentEvent(e: StoredEvent): Record<string, unknown> {
  const out: Record<string, unknown> = {
    messageId: e.messageId,
    event: e.event,
    email: e.email,
    contactId: e.contactId,
    properties: e.properties ?? {},
    traits: e.traits ?? {},
    timestamp: iso(e.timestamp),
    receivedAt: iso(e.receivedAt),
    status: e.status,
  };
  if (e.error !== null) out.error = e.error;
  if (e.violations) out.violations = e.violations;
  return out;
}
