/** The dashboard API client: same-origin JSON, the session cookie sent by the browser, the CSRF token on writes. */
export interface Workspace {
  id: string;
  name: string;
}
export interface SessionInfo {
  user: { id: string; email: string };
  workspace: Workspace | null;
  workspaces: Workspace[];
  csrfToken: string;
  /** The "Test mode" switch: every page shows the workspace's test mode (test keys' data). */
  testMode: boolean;
}
export interface ApiEvent {
  messageId: string;
  event: string;
  email: string;
  contactId: string | null;
  properties: Record<string, unknown> | null;
  traits: Record<string, unknown> | null;
  timestamp: string;
  receivedAt: string;
  status: string;
  error?: string;
  /** The dashboard's event page only: `api` or `segment`. */
  source?: 'api' | 'segment';
  /** What a warn-mode tracking plan found wrong with it. */
  violations?: { rule: string; path: string; message: string }[];
}
export interface ApiContact {
  id: string;
  createdAt: string;
  updatedAt: string;
  properties: Record<string, unknown>;
}
export interface Page<T> {
  items: T[];
  cursor: string | null;
  hasMore: boolean;
}

export class ApiFailure extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

let csrf = '';
export function setCsrf(token: string): void {
  csrf = token;
}

export async function api<T>(path: string, opts: { method?: string; body?: unknown } = {}): Promise<T> {
  const method = opts.method ?? (opts.body !== undefined ? 'POST' : 'GET');
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET') headers['x-csrf-token'] = csrf;
  const res = await fetch(`/dashboard/api${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body), credentials: 'same-origin' });
  const data = (res.headers.get('content-type') ?? '').includes('application/json') ? await res.json() : null;
  if (!res.ok) throw new ApiFailure(res.status, data?.code ?? 'ERROR', data?.message ?? `Request failed (${res.status})`);
  return data as T;
}

export function query(params: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}
export interface ApiSegment {
  id: string;
  name: string;
  rule: unknown;
  status: string;
  memberCount: number;
  build: { processed: number; total: number | null };
  createdAt: string;
  updatedAt: string;
}
export interface ApiWorkflow {
  id: string;
  version: number;
  name: string;
  status: string;
  trigger: unknown;
  steps: unknown[];
  createdAt: string;
  updatedAt: string;
}
export interface ApiRunStep {
  id: string;
  status: string;
  attempts: number;
  startedAt: string | null;
  finishedAt: string | null;
  error?: string;
}
export interface ApiRun {
  id: string;
  workflowId: string;
  version: number;
  contactId: string;
  triggerMessageId: string | null;
  status: string;
  steps: ApiRunStep[];
  createdAt: string;
  updatedAt: string;
  wakeAt?: string;
}
export interface ApiAttempt {
  at: string;
  statusCode: number | null;
  latencyMs: number;
  response: string;
  error?: string;
}
export interface ApiDelivery {
  id: string;
  workflowId: string;
  runId: string;
  stepId: string;
  url: string;
  status: string;
  attempts: ApiAttempt[];
  nextAttemptAt: string | null;
  createdAt: string;
  updatedAt: string;
}
export interface ApiOutboxEntry {
  name: string;
  size: number;
  writtenAt: string;
  messageId: string | null;
  from: string | null;
  to: string | null;
  subject: string | null;
}
export interface ApiOutboxMessage extends ApiOutboxEntry {
  text: string;
  truncated: boolean;
}
