import { readFileSync } from 'node:fs';
import type { Store } from '../../storage/ports.js';
import { TrackingPlanService } from '../../tracking-plan/tracking-plan.service.js';
import { InvalidPlanError } from '../../tracking-plan/tracking-plan.js';
import { parseCommandArgs, requireName, UsageError } from '../args.js';
import { configFromEnv, openCliStore } from '../context.js';

export const TRACKING_PLAN_HELP = `Usage:
  smashsend tracking-plan apply FILE.json [--workspace NAME]
      Sets the workspace's tracking plan from a file holding the body of PUT /v1/tracking-plan
      ({"mode": "warn" | "block", "allowUnplanned": bool, "events": [{"name" | "pattern",
      "properties": JSON Schema}]}), so the plan can live in version control. The same
      validation as the API (messages name the path). Prints the plan's new version. Running
      servers use it within about a second.
  smashsend tracking-plan show [--workspace NAME]
      Prints the plan as JSON, as GET /v1/tracking-plan answers it.
  smashsend tracking-plan delete [--workspace NAME]
      Removes the plan: events are no longer checked.

The workspace defaults to "default". show and delete never create a store.`;

function help(): number {
  console.log(TRACKING_PLAN_HELP);
  return 0;
}

/** The workspace id of a name, through its keys (read-only), or by making it (apply). */
async function workspaceId(store: Store, name: string, create: boolean): Promise<string> {
  if (create) return (await store.keys.ensureWorkspace(name, Date.now())).id;
  const k = (await store.keys.listKeys()).find((x) => x.workspaceName === name);
  if (!k) throw new Error(`no workspace named "${name}" (it has no keys)`);
  return k.workspaceId;
}

export async function trackingPlan(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help') return help();
  const spec = { workspace: { type: 'string' as const }, help: { type: 'boolean' as const, short: 'h' } };
  if (sub !== 'apply' && sub !== 'show' && sub !== 'delete') throw new UsageError(`unknown tracking-plan command "${sub}"`);
  const { values, positionals } = parseCommandArgs(rest, spec, sub === 'apply' ? 1 : 0);
  if (values.help) return help();
  const workspace = requireName('workspace', values.workspace ?? 'default');
  const config = configFromEnv();
  if (sub === 'apply') {
    const file = positionals[0];
    if (!file) throw new UsageError('tracking-plan apply needs a file: smashsend tracking-plan apply FILE.json');
    let body: unknown;
    try {
      body = JSON.parse(readFileSync(file, 'utf8'));
    } catch (err) {
      throw new Error(`cannot read ${file}: ${(err as Error).message}`);
    }
    const store = await openCliStore(config, 'write');
    try {
      const service = new TrackingPlanService({ plans: store.trackingPlans });
      const ws = await workspaceId(store, workspace, true);
      const plan = await service.put(ws, body, Date.now()).catch((err: unknown) => {
        throw err instanceof InvalidPlanError ? new Error(`${file}: ${err.message}`) : err;
      });
      console.log(`Applied the tracking plan of "${workspace}" (version ${plan.version}, ${plan.mode}, ${plan.events.length} entries).`);
      return 0;
    } finally {
      await store.close();
    }
  }
  const store = await openCliStore(config, 'read');
  try {
    const service = new TrackingPlanService({ plans: store.trackingPlans });
    const ws = await workspaceId(store, workspace, false);
    if (sub === 'show') {
      const plan = await service.get(ws);
      if (!plan) throw new Error(`workspace "${workspace}" has no tracking plan`);
      console.log(JSON.stringify({ trackingPlan: plan }, null, 2));
      return 0;
    }
    const deleted = await service.delete(ws, Date.now());
    if (!deleted) throw new Error(`workspace "${workspace}" has no tracking plan`);
    console.log(`Deleted the tracking plan of "${workspace}" (it was version ${deleted.version}).`);
    return 0;
  } finally {
    await store.close();
  }
}
