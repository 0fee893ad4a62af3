/**
 * A workspace's view of the outbox (the `.eml` files the email transport writes when SMTP_URL
 * is unset) for the dashboard's Settings → mail. The outbox directory is the server's, one for
 * every workspace; a file belongs to the workspace of the run its Message-ID was minted for
 * (messageIdFor), looked up through the workflow store, so a session sees only its own mail.
 * A file whose Message-ID names no run of the workspace is not shown, nor readable.
 */
import { ApiError, Errors } from '../http/errors.js';
import { iso, singleQuery, queryLimit } from '../http/paging.js';
import { runIdOfMessageId, type OutboxEntry, type OutboxReader } from './transports/email.js';
import type { WorkflowStore } from './workflow-store.port.js';

/** Files looked at per listing, newest first: the list stays bounded however large the outbox grows. */
export const OUTBOX_SCAN_LIMIT = 500;
/** A message is shown as text up to this size (the rest is cut, and said so). */
export const OUTBOX_VIEW_BYTES = 256 * 1024;

export interface MailSettings {
  /** SMTP_URL is set (its value, password included, is never shown). */
  smtpConfigured: boolean;
  from: string;
  outboxDir: string;
}

const messageNotFound = () => new ApiError(404, 'NOT_FOUND', 'Message not found');

function presentEntry(e: OutboxEntry) {
  return { name: e.name, size: e.size, writtenAt: iso(e.writtenAt), messageId: e.messageId, from: e.from, to: e.to, subject: e.subject };
}

async function ownEntry(reader: OutboxReader, workflows: Pick<WorkflowStore, 'getRun'>, workspaceId: string, name: string, runs: Map<string, boolean>): Promise<OutboxEntry | null> {
  const e = await reader.entry(name);
  const runId = e?.messageId ? runIdOfMessageId(e.messageId) : null;
  if (!e || !runId) return null;
  let mine = runs.get(runId);
  if (mine === undefined) runs.set(runId, (mine = (await workflows.getRun(runId, workspaceId)) !== null));
  return mine ? e : null;
}

export function mailSettingsView(mail: MailSettings) {
  return {
    mail: {
      transport: mail.smtpConfigured ? 'smtp' : 'outbox',
      smtpConfigured: mail.smtpConfigured,
      from: mail.from,
      ...(mail.smtpConfigured ? {} : { outboxDir: mail.outboxDir }),
    },
  };
}

/** The workspace's outbox messages, newest first: at most `limit` of the newest OUTBOX_SCAN_LIMIT files. */
export async function listOutboxView(reader: OutboxReader, workflows: Pick<WorkflowStore, 'getRun'>, workspaceId: string, query: unknown) {
  const q = singleQuery(query);
  for (const k of Object.keys(q)) if (k !== 'limit') throw Errors.unknownQuery(k, ['limit']);
  const limit = q.limit === undefined ? 50 : queryLimit(q.limit, 100);
  const names = await reader.names();
  const scanned = names.slice(0, OUTBOX_SCAN_LIMIT);
  const runs = new Map<string, boolean>();
  const items: OutboxEntry[] = [];
  let hasMore = false;
  for (const name of scanned) {
    const e = await ownEntry(reader, workflows, workspaceId, name, runs);
    if (!e) continue;
    if (items.length === limit) {
      hasMore = true;
      break;
    }
    items.push(e);
  }
  return { outbox: { items: items.map(presentEntry), hasMore, scanned: scanned.length, total: names.length } };
}

/** One message of the workspace as text (its first OUTBOX_VIEW_BYTES). */
export async function getOutboxMessage(reader: OutboxReader, workflows: Pick<WorkflowStore, 'getRun'>, workspaceId: string, name: string) {
  const e = await ownEntry(reader, workflows, workspaceId, name, new Map());
  const body = e ? await reader.read(name, OUTBOX_VIEW_BYTES) : null;
  if (!e || !body) throw messageNotFound();
  return { message: { ...presentEntry(e), text: body.text, truncated: body.truncated } };
}
