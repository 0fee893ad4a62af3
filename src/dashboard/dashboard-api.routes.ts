/**
 * The dashboard's JSON API under /dashboard/api: the same ports and the same list functions
 * as the public routes (no SQL here), scoped to the session's workspace instead of a key's.
 * Every route is behind sessionHook (session.hook.ts) unless it is marked `dashboardPublic`;
 * test/dashboard-security.test.ts walks the route table to keep it so.
 */
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { ContactStore } from '../contacts/contact-store.port.js';
import { listContacts } from '../contacts/contacts.routes.js';
import { presentContact } from '../contacts/present-contact.js';
import { normalizeEmail } from '../core/email.js';
import type { EventReader } from '../events-read/event-reader.port.js';
import { listEvents } from '../events-read/events-read.routes.js';
import { presentEvent } from '../events-read/present-event.js';
import { Errors } from '../http/errors.js';
import { iso } from '../http/paging.js';
import type { RateLimiter } from '../http/rate-limit/rate-limiter.js';
import type { KeyStore } from '../keys/key-store.port.js';
import type { QueueStore } from '../processing/event-queue.port.js';
import type { JobQueue } from '../processing/job-queue.port.js';
import { listDeadJobsView, retryDeadJob } from '../workflows/dead-jobs-view.js';
import { retryFailedEvent } from '../processing/retry-failed-event.js';
import { mintKeyIn } from '../keys/mint-key.js';
import type { ActivityStore } from '../activity/activity.port.js';
import { eventStats } from '../activity/stats.routes.js';
import type { CatalogStore } from '../catalog/catalog-store.port.js';
import { catalogView } from '../catalog/catalog.routes.js';
import type { TrackingPlanService } from '../tracking-plan/tracking-plan.service.js';
import { liveRoutes } from './live.routes.js';
import { contactTimeline } from './contact-timeline.js';
import { hashPassword, PASSWORD_LIMITS, verifyPassword } from '../users/password.js';
import { hashToken, newToken } from '../users/tokens.js';
import type { UserRecord, UserStore } from '../users/user-store.port.js';
import type { SegmentStore } from '../segments/segment-store.port.js';
import { getSegmentView, listSegmentMembersPage, listSegmentsPage, listSegmentTransitionsPage } from '../segments/segments.routes.js';
import type { DeliveryStore, WorkflowStore } from '../workflows/workflow-store.port.js';
import { getDeliveryView, getRunView, getWorkflowView, listDeliveriesPage, listRunsPage, listWorkflowsPage, listWorkflowVersions, retryDelivery, setWorkflowStatus } from '../workflows/workflows.routes.js';
import type { WorkspaceSecretStore } from '../workflows/workspace-secrets.port.js';
import { rotateWebhookSecret, webhookSecretView } from '../workflows/workspace-secrets.routes.js';
import type { OutboxReader } from '../workflows/transports/email.js';
import { getOutboxMessage, listOutboxView, mailSettingsView, type MailSettings } from '../workflows/outbox-view.js';
import type { WorkspaceModes } from '../keys/workspace-modes.js';
import { csrfTokenOf, SESSION_TTL_MS, sessionHook, setSessionCookie } from './session.hook.js';

export interface DashboardApiOptions {
  users: UserStore;
  keys: KeyStore;
  events: EventReader;
  contacts: ContactStore;
  activity: ActivityStore;
  queue: QueueStore;
  limiter: RateLimiter;
  clock: () => number;
  /** The workflows an event started or why not (the event trace of GET /v1/events/:messageId). */
  workflowTrace?: (workspaceId: string, messageId: string) => Promise<unknown[]>;
  /** Segments, workflows, runs and webhook deliveries: the stores the /v1 routes of those modules use. */
  segments: SegmentStore;
  workflows: WorkflowStore;
  deliveries: DeliveryStore;
  /** The webhook signing secret: the port GET / rotate /v1/settings/webhook-secret use. */
  secrets: WorkspaceSecretStore;
  /** Mail settings (SMTP_URL set or not, never its value; EMAIL_FROM) and the outbox the email transport writes. */
  mail: MailSettings;
  outbox: OutboxReader;
  /** The job queue: its dead workflow jobs of this workspace, on the Failed page (dead-jobs-view.ts). */
  jobs: JobQueue;
  /** The event catalogue: the view GET /v1/catalog/events answers with (catalog.routes.ts). */
  catalog: CatalogStore;
  /** Test siblings of the session's workspace (the "Test mode" switch). */
  modes: WorkspaceModes;
  /** Tracking plans: the plan and its violations, as GET /v1/tracking-plan[/violations] answer (tracking-plan.service.ts). */
  trackingPlan: TrackingPlanService;
  /** Filled with every route registered here (for the security test's walk). */
  routeTable: DashboardRoute[];
}

export interface DashboardRoute {
  method: string;
  url: string;
  public: boolean;
}

/** Sign-in attempts per minute: per email (guessing one account) and per client address (spraying many). */
export const SIGN_IN_LIMITS = { perEmail: 10, perAddress: 50 } as const;

function bodyObject(req: FastifyRequest): Record<string, unknown> {
  const b = req.body;
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw Errors.invalidBody();
  return b as Record<string, unknown>;
}

function stringField(b: Record<string, unknown>, name: string, max = 1000): string {
  const v = b[name];
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw Errors.invalidBody(`"${name}" is required`);
  return v;
}

function sessionView(user: UserRecord, workspaceId: string, token: string, testMode = false) {
  return {
    user: { id: user.id, email: user.email },
    workspace: user.workspaces.find((w) => w.id === workspaceId) ?? null,
    workspaces: user.workspaces,
    csrfToken: csrfTokenOf(token),
    // The "Test mode" switch: on, every page shows the workspace's test mode (and a banner says so).
    testMode,
  };
}

export const dashboardApiRoutes: FastifyPluginAsync<DashboardApiOptions> = async (app, o) => {
  const { users, keys, events, contacts, limiter, clock } = o;
  app.addHook('onRoute', (r) => {
    for (const m of Array.isArray(r.method) ? r.method : [r.method]) o.routeTable.push({ method: m, url: r.url, public: r.config?.dashboardPublic === true });
  });
  app.addHook('onRequest', sessionHook(users, clock, o.modes));
  // A new object per route: Fastify keeps each route's config as given.
  const priv = () => ({ config: { internal: 'dashboard' as const } });
  const pub = () => ({ config: { internal: 'dashboard' as const, dashboardPublic: true } });

  async function limit(key: string, n: number): Promise<void> {
    const d = await limiter.hit(`dashboard-sign-in:${key}`, n, clock());
    if (!d.allowed) throw Errors.rateLimited(Math.max(1, Math.ceil(d.resetMs / 1000)));
  }

  async function startSession(req: FastifyRequest, reply: FastifyReply, user: UserRecord) {
    const ws = user.workspaces[0];
    if (!ws) throw Errors.invalidCredentials();
    const token = newToken();
    const now = clock();
    // Sessions are only created here, so purging here keeps the table to the live ones.
    await users.purgeExpired(now);
    await users.createSession({ tokenHash: hashToken(token), userId: user.id, workspaceId: ws.id, now, expiresAt: now + SESSION_TTL_MS });
    setSessionCookie(req, reply, token);
    return sessionView(user, ws.id, token);
  }

  app.post('/dashboard/api/sign-in', pub(), async (req, reply) => {
    await limit(`ip:${req.ip}`, SIGN_IN_LIMITS.perAddress);
    const b = bodyObject(req);
    const email = normalizeEmail(stringField(b, 'email', 254));
    const password = stringField(b, 'password', PASSWORD_LIMITS.max * 4);
    await limit(`email:${email ?? ''}`, SIGN_IN_LIMITS.perEmail);
    const user = email ? await users.findUserByEmail(email) : null;
    // Verified against a dummy hash when there is no such user: the answer takes as long.
    if (!(await verifyPassword(password, user?.passwordHash ?? null)) || !user) throw Errors.invalidCredentials();
    return startSession(req, reply, user);
  });

  // The first-start link: creates the first user (workspace "default") with the password chosen.
  app.post('/dashboard/api/setup', pub(), async (req, reply) => {
    await limit(`ip:${req.ip}`, SIGN_IN_LIMITS.perAddress);
    const b = bodyObject(req);
    const token = stringField(b, 'token', 200);
    const email = normalizeEmail(stringField(b, 'email', 254));
    if (!email) throw Errors.invalidBody('"email" must be a valid email');
    const password = stringField(b, 'password', PASSWORD_LIMITS.max * 4);
    if ([...password].length < PASSWORD_LIMITS.min || [...password].length > PASSWORD_LIMITS.max) {
      throw Errors.invalidBody(`"password" must have ${PASSWORD_LIMITS.min} to ${PASSWORD_LIMITS.max} characters`);
    }
    const passwordHash = await hashPassword(password);
    if (!(await users.consumeSetupToken(hashToken(token), clock()))) throw Errors.invalidSetupLink();
    const ws = await keys.ensureWorkspace('default', clock());
    const { user, created } = await users.createUser({ email, passwordHash, workspaceIds: [ws.id], now: clock() });
    if (!created) {
      await users.setPassword(user.id, passwordHash, clock());
      await users.addMemberships(user.id, [ws.id]);
    }
    return startSession(req, reply, (await users.getUser(user.id))!);
  });

  app.get('/dashboard/api/session', priv(), async (req) => {
    const d = req.dashboard!;
    return sessionView(d.user, d.session.workspaceId, d.token, d.session.testMode === true);
  });

  // The "Test mode" switch, per session (CSRF-checked like every POST here). On, the session
  // hook points every page at the test sibling, created here on first need.
  app.post('/dashboard/api/test-mode', priv(), async (req) => {
    const on = bodyObject(req).enabled;
    if (typeof on !== 'boolean') throw Errors.invalidBody('"enabled" must be a boolean');
    const d = req.dashboard!;
    if (on) await o.modes.testWorkspaceOf(d.session.workspaceId);
    await users.setTestMode(hashToken(d.token), on);
    return sessionView(d.user, d.session.workspaceId, d.token, on);
  });

  app.post('/dashboard/api/sign-out', priv(), async (req, reply) => {
    await users.deleteSession(hashToken(req.dashboard!.token));
    setSessionCookie(req, reply, null);
    return { signedOut: true };
  });

  app.post('/dashboard/api/workspace', priv(), async (req) => {
    const workspaceId = stringField(bodyObject(req), 'workspaceId', 100);
    const d = req.dashboard!;
    if (!(await users.switchWorkspace(hashToken(d.token), workspaceId))) throw Errors.workspaceNotFound();
    return sessionView(d.user, workspaceId, d.token, d.session.testMode === true);
  });

  const presentKey = (k: Awaited<ReturnType<KeyStore['listKeys']>>[number]) => ({
    id: k.id,
    name: k.name,
    prefix: k.prefix,
    createdAt: iso(k.createdAt),
    lastUsedAt: k.lastUsedAt === null ? null : iso(k.lastUsedAt),
    revokedAt: k.revokedAt === null ? null : iso(k.revokedAt),
  });
  const workspaceKeys = async (ws: string) => (await keys.listKeys()).filter((k) => k.workspaceId === ws);

  app.get('/dashboard/api/keys', priv(), async (req) => ({ keys: (await workspaceKeys(req.workspaceId)).map(presentKey).reverse() }));

  app.post('/dashboard/api/keys', priv(), async (req, reply) => {
    const name = stringField(bodyObject(req), 'name', 100).trim();
    if (!name) throw Errors.invalidBody('"name" is required');
    // In test mode a test key (sk_test_…) of the session's workspace.
    const test = req.dashboard!.session.testMode === true;
    const { secret, record } = await mintKeyIn(keys, req.dashboard!.session.workspaceId, name, clock(), { test });
    return reply.code(201).send({ key: presentKey(record), secret });
  });

  app.post<{ Params: { id: string } }>('/dashboard/api/keys/:id/revoke', priv(), async (req) => {
    const found = (await workspaceKeys(req.workspaceId)).find((k) => k.id === req.params.id);
    if (!found) throw Errors.keyNotFound();
    const revoked = await keys.revokeKey(found.id, clock());
    return { key: presentKey(revoked ?? found) };
  });

  app.get('/dashboard/api/events', priv(), async (req) => listEvents(events, req.workspaceId, req.query, clock()));

  app.get<{ Params: { messageId: string } }>('/dashboard/api/events/:messageId', priv(), async (req) => {
    const e = await events.get(req.workspaceId, req.params.messageId);
    if (!e) throw Errors.eventNotFound();
    const [contact, workflows] = await Promise.all([
      e.contactId ? contacts.get(req.workspaceId, e.contactId) : contacts.findByEmail(req.workspaceId, e.email),
      o.workflowTrace ? o.workflowTrace(req.workspaceId, e.messageId) : [],
    ]);
    // source: where the event came from (our API or the Segment-compatible paths), shown on the page.
    return { event: { ...presentEvent(e), source: e.source ?? 'api' }, contact: contact ? presentContact(contact) : null, workflows };
  });

  app.get('/dashboard/api/contacts', priv(), async (req) => listContacts(contacts, req.workspaceId, req.query));

  app.get<{ Params: { id: string } }>('/dashboard/api/contacts/:id', priv(), async (req) => {
    const c = await contacts.get(req.workspaceId, req.params.id);
    if (!c) throw Errors.contactNotFound();
    // Events, segment enters / exits and workflow runs, merged by time (contact-timeline.ts).
    const [timeline, provenance] = await Promise.all([contactTimeline({ events, segments: o.segments, workflows: o.workflows }, req.workspaceId, c), contacts.provenance(req.workspaceId, c.id)]);
    return {
      contact: presentContact(c),
      events: timeline.events,
      timeline: timeline.timeline,
      provenance: (provenance ?? []).map((p) => ({ property: p.property, setAt: iso(p.setAt), messageId: p.messageId })),
    };
  });

  // Processing: the queue's depth and lag are the server's (one queue for every workspace);
  // the failed events listed are this workspace's.
  app.get('/dashboard/api/processing', priv(), async (req) => {
    const now = clock();
    const [q, failed] = await Promise.all([o.queue.stats(now), events.list({ workspaceId: req.workspaceId, status: 'failed', limit: 20 })]);
    return {
      queue: { depth: q.depth, lagSeconds: q.oldestReceivedAt === null ? 0 : Math.max(0, (now - q.oldestReceivedAt) / 1000), failed: q.failed },
      failedEvents: failed.items.map(presentEvent),
    };
  });

  app.get('/dashboard/api/stats', priv(), async (req) => eventStats(o.activity, req.workspaceId, req.query, clock()));
  app.get('/dashboard/api/catalog/events', priv(), async (req) => catalogView(o.catalog, req.workspaceId));
  app.get('/dashboard/api/tracking-plan', priv(), async (req) => ({ trackingPlan: await o.trackingPlan.get(req.workspaceId) }));
  app.get('/dashboard/api/tracking-plan/violations', priv(), async (req) => ({ violations: await o.trackingPlan.violations(req.workspaceId) }));

  // Segments, workflows and webhook deliveries: the functions the /v1 routes answer with
  // (segments.routes.ts, workflows.routes.ts), given the session's workspace.
  type Id = { Params: { id: string } };
  app.get('/dashboard/api/segments', priv(), async (req) => listSegmentsPage(o.segments, req.workspaceId, req.query));
  app.get<Id>('/dashboard/api/segments/:id', priv(), async (req) => getSegmentView(o.segments, req.workspaceId, req.params.id));
  app.get<Id>('/dashboard/api/segments/:id/contacts', priv(), async (req) => listSegmentMembersPage(o.segments, contacts, req.workspaceId, req.params.id, req.query));
  app.get<Id>('/dashboard/api/segments/:id/transitions', priv(), async (req) => listSegmentTransitionsPage(o.segments, req.workspaceId, req.params.id, req.query));

  app.get('/dashboard/api/workflows', priv(), async (req) => listWorkflowsPage(o.workflows, req.workspaceId, req.query));
  app.get<Id>('/dashboard/api/workflows/:id', priv(), async (req) => getWorkflowView(o.workflows, req.workspaceId, req.params.id));
  app.post<Id>('/dashboard/api/workflows/:id/pause', priv(), async (req) => setWorkflowStatus(o.workflows, req.workspaceId, req.params.id, 'paused', clock()));
  app.post<Id>('/dashboard/api/workflows/:id/activate', priv(), async (req) => setWorkflowStatus(o.workflows, req.workspaceId, req.params.id, 'active', clock()));
  app.get<Id>('/dashboard/api/workflows/:id/versions', priv(), async (req) => listWorkflowVersions(o.workflows, req.workspaceId, req.params.id));
  app.get<Id>('/dashboard/api/workflows/:id/runs', priv(), async (req) => listRunsPage(o.workflows, req.workspaceId, req.params.id, req.query));
  app.get<Id>('/dashboard/api/runs/:id', priv(), async (req) => getRunView(o.workflows, req.workspaceId, req.params.id));

  app.get('/dashboard/api/webhook-deliveries', priv(), async (req) => listDeliveriesPage(o.deliveries, req.workspaceId, req.query));
  app.get<Id>('/dashboard/api/webhook-deliveries/:id', priv(), async (req) => getDeliveryView(o.deliveries, req.workspaceId, req.params.id));
  app.post<Id>('/dashboard/api/webhook-deliveries/:id/retry', priv(), async (req) => retryDelivery(o.deliveries, req.workspaceId, req.params.id, clock()));

  // Failed page: failed events and deliveries come from /events?status=failed and
  // /webhook-deliveries?status=failed (the public list functions); dead jobs from here. Each
  // has its Retry (CSRF-checked by the session hook, as every POST here).
  app.get('/dashboard/api/dead-jobs', priv(), async (req) => listDeadJobsView({ jobs: o.jobs, workflows: o.workflows, deliveries: o.deliveries }, req.workspaceId, req.query));
  app.post<Id>('/dashboard/api/dead-jobs/:id/retry', priv(), async (req) => retryDeadJob({ jobs: o.jobs, workflows: o.workflows, deliveries: o.deliveries }, req.workspaceId, req.params.id, clock()));
  app.post<{ Params: { messageId: string } }>('/dashboard/api/events/:messageId/retry', priv(), async (req) =>
    retryFailedEvent({ queue: o.queue, events }, req.workspaceId, req.params.messageId, clock()),
  );

  // Settings: the webhook signing secret (the functions of workspace-secrets.routes.ts), mail
  // settings and this workspace's messages in the outbox (outbox-view.ts).
  app.get('/dashboard/api/settings/webhook-secret', priv(), async (req) => webhookSecretView(o.secrets, req.workspaceId, clock()));
  app.post('/dashboard/api/settings/webhook-secret/rotate', priv(), async (req) => rotateWebhookSecret(o.secrets, req.workspaceId, clock()));
  // Test mode's mail is the outbox whatever SMTP_URL says (the email step's testMail).
  app.get('/dashboard/api/settings/mail', priv(), async (req) =>
    mailSettingsView(req.dashboard!.session.testMode ? { ...o.mail, smtpConfigured: false } : o.mail),
  );
  app.get('/dashboard/api/outbox', priv(), async (req) => listOutboxView(o.outbox, o.workflows, req.workspaceId, req.query));
  app.get<{ Params: { name: string } }>('/dashboard/api/outbox/:name', priv(), async (req) => getOutboxMessage(o.outbox, o.workflows, req.workspaceId, req.params.name));

  // Registered inside this plugin: the session hook and the route table cover it.
  await app.register(liveRoutes(o.activity));
};
