/**
 * The user store port: dashboard users, the workspaces each belongs to, their sessions and
 * the one-time setup links. Secrets never reach it: passwords arrive as scrypt hashes
 * (password.ts), session and setup tokens as SHA-256 hex (tokens.ts).
 */
import type { Workspace } from '../keys/key-store.port.js';

export interface UserRecord {
  id: string;
  /** Lower-cased, trimmed. */
  email: string;
  /** null until the user has set a password. */
  passwordHash: string | null;
  createdAt: number;
  /** The workspaces the user belongs to, by name. */
  workspaces: Workspace[];
}

export interface SessionRecord {
  userId: string;
  /** The workspace the dashboard shows; always one the user belongs to when found. */
  workspaceId: string;
  createdAt: number;
  expiresAt: number;
  /** The dashboard's "Test mode" switch is on: every page shows the workspace's test sibling. Absent when off. */
  testMode?: true;
}

/**
 * Expired sessions deleted per purgeExpired call: bounds the write a sign-in waits for (an
 * index range on sessions_by_expiry) even on a store that collected many; each sign-in adds
 * one session and removes up to this many, so a backlog drains.
 */
export const PURGE_BATCH = 1_000;

export interface UserStore {
  /** A new user in these workspaces; `created: false` (and nothing written) when the email is taken. */
  createUser(input: { email: string; passwordHash: string | null; workspaceIds: string[]; now: number }): Promise<{ user: UserRecord; created: boolean }>;
  /** Adds memberships (existing ones are kept); returns the user, or null if unknown. */
  addMemberships(userId: string, workspaceIds: string[]): Promise<UserRecord | null>;
  getUser(id: string): Promise<UserRecord | null>;
  findUserByEmail(email: string): Promise<UserRecord | null>;
  countUsers(): Promise<number>;
  setPassword(userId: string, passwordHash: string, now: number): Promise<void>;
  createSession(input: { tokenHash: string; userId: string; workspaceId: string; now: number; expiresAt: number }): Promise<void>;
  /**
   * The live session of this token with its user, or null (unknown, expired, or its
   * workspace is no longer one of the user's).
   */
  findSession(tokenHash: string, now: number): Promise<{ session: SessionRecord; user: UserRecord } | null>;
  /** Points the session at another workspace of its user; false if the user does not belong to it. */
  switchWorkspace(tokenHash: string, workspaceId: string): Promise<boolean>;
  /** Turns the session's "Test mode" switch on or off; false if there is no such session. */
  setTestMode(tokenHash: string, on: boolean): Promise<boolean>;
  deleteSession(tokenHash: string): Promise<void>;
  /**
   * Deletes up to PURGE_BATCH sessions that expired at or before `now`, and the setup tokens
   * expired by then; returns how many sessions went. Called at each sign-in, which is what
   * creates sessions, so the table holds little more than the sessions still alive.
   */
  purgeExpired(now: number): Promise<{ sessions: number }>;
  createSetupToken(tokenHash: string, now: number, expiresAt: number): Promise<void>;
  /** Marks the token used if it is unused and unexpired; true for exactly one caller. */
  consumeSetupToken(tokenHash: string, now: number): Promise<boolean>;
}
