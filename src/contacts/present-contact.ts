/** The official SDK's wire shape of a contact. */
import { iso } from '../http/paging.js';
import type { ContactRecord } from './contact-store.port.js';

export function presentContact(c: ContactRecord): Record<string, unknown> {
  return {
    id: c.id,
    createdAt: iso(c.createdAt),
    updatedAt: iso(c.updatedAt),
    workspaceId: c.workspaceId,
    properties: c.properties,
  };
}
