/**
 * What the trigger stage, the runner and the step executors share: the store ports, the
 * transports, the settings from Config, and condition evaluation with its storage lookups
 * (performed counts, segment membership) prefetched, since core/conditions evaluates
 * synchronously.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Condition, PerformedCondition } from '../core/conditions/condition.js';
import { eventMatchesPerformed, evaluate, performedWindowStart } from '../core/conditions/evaluate.js';
import { references } from '../core/conditions/references.js';
import type { ContactStore } from '../contacts/contact-store.port.js';
import type { SegmentMembership } from '../segments/segment-links.js';
import type { WorkspaceModes } from '../keys/workspace-modes.js';
import type { MailTransport } from './transports/email.js';
import type { WebhookSender } from './transports/webhook-sender.js';
import type { WorkspaceSecretStore } from './workspace-secrets.port.js';
import type { DeliveryStore, WorkflowStore } from './workflow-store.port.js';

export interface EngineSettings {
  /** WORKFLOW_MAX_EVENT_AGE_HOURS in ms: an older event starts no run. */
  maxEventAgeMs: number;
  /** WEBHOOK_RETRY_SCHEDULE in ms. */
  retryScheduleMs: number[];
  emailFrom: string;
  publicUrl: string;
  messageIdDomain: string;
}

export interface EngineDeps {
  workflows: WorkflowStore;
  deliveries: DeliveryStore;
  contacts: ContactStore;
  secrets: WorkspaceSecretStore;
  sender: WebhookSender;
  mail: MailTransport;
  /**
   * Test mode's mail: always the outbox, whatever SMTP_URL says (SPEC.md, test keys). The
   * same transport as `mail` when that is the outbox already.
   */
  testMail: MailTransport;
  /** Which workspaces are test siblings (test mode's side effects differ; its data is just another workspace's). */
  modes: WorkspaceModes;
  /** Absent until the segments module is wired: `inSegment` is then false. */
  membership?: SegmentMembership;
  settings: EngineSettings;
  log: Logger;
}

/** Events counted per `performed` node at most (a bounded query; a count above it reads as this). */
export const PERFORMED_SCAN_LIMIT = 1000;

export function newId(prefix: 'wf' | 'run'): string {
  return `${prefix}_${randomBytes(12).toString('base64url')}`;
}

/** The delivery id of a run's webhook step: stable, so a repeated step job finds the same delivery. */
export function deliveryIdFor(runId: string, stepId: string): string {
  return `dlv_${createHash('sha256').update(`${runId}\u0000${stepId}`).digest('base64url').slice(0, 22)}`;
}

export interface ConditionSubject {
  workspaceId: string;
  /** Null: a contact that does not exist yet (a dry run of its first event): no stored history. */
  contactId: string | null;
  /** The contact's properties plus id (what `contact.<name>` reads). */
  contact: Record<string, unknown> | null;
  event: { name: string; properties: Record<string, unknown> | null; timestamp: number } | null;
  /**
   * What is not stored but must count (a dry run, a replay): events `performed` counts beside
   * the stored ones, and segment memberships that replace the stored ones.
   */
  overlay?: {
    events?: readonly { name: string; properties: Record<string, unknown> | null; timestamp: number }[];
    memberships?: ReadonlyMap<string, boolean>;
  };
}

/** Evaluates a condition, fetching what it needs first (performed counts, memberships). */
export async function evaluateCondition(deps: { workflows: Pick<WorkflowStore, 'contactEvents'>; membership?: SegmentMembership }, cond: Condition, s: ConditionSubject, now: number): Promise<boolean> {
  const refs = references(cond);
  const counts = new Map<string, number>();
  for (const node of refs.performed) {
    const since = performedWindowStart(node, now);
    const stored = s.contactId === null ? [] : await deps.workflows.contactEvents({ workspaceId: s.workspaceId, contactId: s.contactId, event: node.performed, since, limit: PERFORMED_SCAN_LIMIT });
    let n = stored.filter((e) => eventMatchesPerformed(node, { name: node.performed, properties: e.properties })).length;
    for (const e of s.overlay?.events ?? []) if (e.timestamp >= since && eventMatchesPerformed(node, e)) n++;
    counts.set(node.key, n);
  }
  const members = new Map<string, boolean>();
  for (const seg of refs.segments) {
    const overlaid = s.overlay?.memberships?.get(seg);
    members.set(seg, overlaid ?? (deps.membership && s.contactId !== null ? await deps.membership.isMember(s.workspaceId, seg, s.contactId) : false));
  }
  return evaluate(cond, {
    contact: s.contact,
    event: s.event,
    now,
    performedCount: (node: PerformedCondition) => counts.get(node.key) ?? 0,
    inSegment: (id) => members.get(id) ?? false,
  });
}

/** The contact as conditions and templates see it: its properties plus `id`. */
export async function contactView(contacts: Pick<ContactStore, 'get'>, workspaceId: string, contactId: string): Promise<Record<string, unknown> | null> {
  const c = await contacts.get(workspaceId, contactId);
  return c ? { ...c.properties, id: c.id } : null;
}
