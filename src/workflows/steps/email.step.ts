/**
 * The email step: Liquid templates in strict mode over contact, event and workflow (an
 * undefined variable fails the step, naming it), sent through SMTP_URL or written to the
 * outbox, only to SUBSCRIBED contacts (anyone else: `skipped`). Each message carries a
 * Message-ID derived from (run, step), so a step repeated after a crash is recognisably the
 * same message, and RFC 8058 List-Unsubscribe headers with a signed token. An SMTP failure
 * throws: the step job is retried with backoff (the same Message-ID each time). In test mode
 * (a test sibling workspace) the message goes to the outbox, never to SMTP.
 */
import { contactView, type EngineDeps } from '../engine-context.js';
import { listUnsubscribeHeaders, messageIdFor } from '../transports/email.js';
import { TemplateError, renderTemplate } from '../transports/templates.js';
import { signUnsubscribeToken } from '../unsubscribe-token.js';
import type { Step, Workflow } from '../workflow-definition.js';
import type { Run } from '../workflow-store.port.js';

type EmailStep = Extract<Step, { type: 'email' }>;

/** An email step's message as rendered, before the headers that need a run (Message-ID, List-Unsubscribe). */
export interface RenderedEmail {
  from: string;
  to: string;
  subject: string;
  html?: string;
  text?: string;
}

export type ComposedEmail = { status: 'skipped' | 'failed'; error: string } | { status: 'ready'; message: RenderedEmail };

/**
 * Renders the step for a contact (its properties plus id) and the triggering event, or says
 * why it is skipped or fails. Sends nothing: the step (below) and the replay (replay.ts) share it.
 */
export async function composeEmail(contact: Record<string, unknown>, triggerEvent: Record<string, unknown> | null, wf: Workflow, step: EmailStep, emailFrom: string): Promise<ComposedEmail> {
  if (contact.status !== undefined && contact.status !== 'SUBSCRIBED') return { status: 'skipped', error: `contact status is ${String(contact.status)}` };
  const to = contact.email;
  if (typeof to !== 'string') return { status: 'failed', error: 'the contact has no email' };
  const vars = { contact, event: triggerEvent, workflow: { id: wf.id, name: wf.definition.name } };
  let subject: string;
  let html: string | undefined;
  let text: string | undefined;
  try {
    subject = (await renderTemplate(step.subject, vars, 'text')).replace(/[\r\n]+/g, ' ');
    if (step.html !== undefined) html = await renderTemplate(step.html, vars, 'html');
    if (step.text !== undefined) text = await renderTemplate(step.text, vars, 'text');
  } catch (err) {
    if (err instanceof TemplateError) return { status: 'failed', error: err.message };
    throw err;
  }
  return { status: 'ready', message: { from: step.from ?? emailFrom, to, subject, ...(html !== undefined ? { html } : {}), ...(text !== undefined ? { text } : {}) } };
}

export async function executeEmail(deps: EngineDeps, run: Run, wf: Workflow, step: EmailStep, now: number): Promise<{ status: 'completed' | 'skipped' | 'failed'; error?: string }> {
  const contact = await contactView(deps.contacts, run.workspaceId, run.contactId);
  if (!contact) return { status: 'failed', error: 'the contact no longer exists' };
  const composed = await composeEmail(contact, run.triggerEvent, wf, step, deps.settings.emailFrom);
  if (composed.status !== 'ready') return composed;
  const key = await deps.secrets.unsubscribeKey(run.workspaceId, now);
  const token = signUnsubscribeToken(key, { workspaceId: run.workspaceId, contactId: run.contactId, runId: run.id });
  const transport = (await deps.modes.isTest(run.workspaceId)) ? deps.testMail : deps.mail;
  await transport.send({
    ...composed.message,
    messageId: messageIdFor(run.id, step.id, deps.settings.messageIdDomain),
    headers: listUnsubscribeHeaders(deps.settings.publicUrl, token),
  });
  return { status: 'completed' };
}
