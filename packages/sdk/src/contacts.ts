/**
 * `smashsend.contacts`, with the official SDK's method names and return shapes.
 */
import type { HttpClient } from './http.js';
import type {
  Contact,
  ContactCreateOptions,
  ContactDeleteResponse,
  ContactListParams,
  ContactListResponse,
  ContactUpdateOptions,
} from './types.js';

/** The official SDK's flat input → the wire's `{ properties: {...} }` (custom properties merged in). */
function toProperties(options: ContactUpdateOptions): Record<string, unknown> {
  const { customProperties, ...rest } = options;
  const properties: Record<string, unknown> = { ...rest, ...(customProperties ?? {}) };
  for (const [k, v] of Object.entries(properties)) {
    if (v instanceof Date) properties[k] = v.toISOString();
  }
  return properties;
}

export class Contacts {
  /** @internal Created by the SmashSend client. */
  constructor(private readonly http: HttpClient) {}

  /**
   * Creates a contact, or updates the one with this email (`POST /v1/contacts` is an upsert).
   *
   * @example
   * ```ts
   * const contact = await smashsend.contacts.create({
   *   email: 'jane@example.com',
   *   firstName: 'Jane',
   *   customProperties: { company: 'ACME Corp' },
   * });
   * console.log(contact.id, contact.properties.status); // 'SUBSCRIBED'
   * ```
   */
  async create(options: ContactCreateOptions): Promise<Contact> {
    const res = await this.http.request<{ contact: Contact }>({ method: 'POST', path: '/contacts', body: { properties: toProperties(options) } });
    return res.contact;
  }

  /**
   * Same call as `create`: creates or updates by email.
   *
   * @example
   * ```ts
   * await smashsend.contacts.upsert({ email: 'jane@example.com', lastName: 'Smith' });
   * ```
   */
  async upsert(options: ContactCreateOptions): Promise<Contact> {
    return this.create(options);
  }

  /**
   * Finds a contact by email (case-insensitive); `null` when there is none.
   *
   * @example
   * ```ts
   * const contact = await smashsend.contacts.search('Jane@Example.com');
   * if (!contact) console.log('not a contact yet');
   * ```
   */
  async search(email: string): Promise<Contact | null> {
    const res = await this.http.request<{ contact: Contact | null }>({ method: 'GET', path: '/contacts/search', query: { email } });
    return res.contact ?? null;
  }

  /**
   * Reads a contact by id; APIError 404 (`NOT_FOUND`) when unknown.
   *
   * @example
   * ```ts
   * const contact = await smashsend.contacts.get(id);
   * ```
   */
  async get(id: string): Promise<Contact> {
    const res = await this.http.request<{ contact: Contact }>({ method: 'GET', path: `/contacts/${encodeURIComponent(id)}` });
    return res.contact;
  }

  /**
   * Merges properties into a contact (`null` clears one; a new `email` moves the contact, 409 if taken).
   *
   * @example
   * ```ts
   * const updated = await smashsend.contacts.update(id, { city: 'Lisbon', phone: null });
   * ```
   */
  async update(id: string, options: ContactUpdateOptions): Promise<Contact> {
    const res = await this.http.request<{ contact: Contact }>({
      method: 'PUT',
      path: `/contacts/${encodeURIComponent(id)}`,
      body: { properties: toProperties(options) },
    });
    return res.contact;
  }

  /**
   * Erases a contact and its events.
   *
   * @example
   * ```ts
   * const { isDeleted } = await smashsend.contacts.delete(id);
   * ```
   */
  async delete(id: string): Promise<ContactDeleteResponse> {
    return this.http.request<ContactDeleteResponse>({ method: 'DELETE', path: `/contacts/${encodeURIComponent(id)}` });
  }

  /**
   * Erases the contact with this email, and its events.
   *
   * @example
   * ```ts
   * const { contact } = await smashsend.contacts.deleteByEmail('jane@example.com');
   * ```
   */
  async deleteByEmail(email: string): Promise<ContactDeleteResponse> {
    return this.http.request<ContactDeleteResponse>({ method: 'DELETE', path: `/contacts/by-email/${encodeURIComponent(email)}` });
  }

  /**
   * Lists contacts, newest first by default; page with the returned cursor.
   *
   * @example
   * ```ts
   * const { contacts } = await smashsend.contacts.list({ limit: 100, search: 'acme', status: 'SUBSCRIBED' });
   * console.log(contacts.items.length, contacts.hasMore, contacts.cursor);
   * ```
   */
  async list(params: ContactListParams = {}): Promise<ContactListResponse> {
    return this.http.request<ContactListResponse>({
      method: 'GET',
      path: '/contacts',
      query: { limit: params.limit, cursor: params.cursor, sort: params.sort, search: params.search, status: params.status },
    });
  }
}
