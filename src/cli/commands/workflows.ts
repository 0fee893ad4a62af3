import { liveWorkspaceIdOf } from '../../keys/workspace-modes.js';
import { readFileSync } from 'node:fs';
import { newId } from '../../workflows/engine-context.js';
import { InvalidWorkflowError, parseWorkflowBody } from '../../workflows/workflow-definition.js';
import { presentWorkflow } from '../../workflows/workflows.routes.js';
import type { Store } from '../../storage/ports.js';
import { parseCommandArgs, requireName, UsageError } from '../args.js';
import { configFromEnv, openCliStore } from '../context.js';

export const WORKFLOWS_HELP = `Usage:
  smashsend workflows list [--workspace NAME] [--json]
      Lists the workspace's workflows: id, version, status, trigger, name (default
      workspace: "default").
  smashsend workflows show ID [--workspace NAME]
      Prints the workflow as JSON, as GET /v1/workflows/:id answers it.
  smashsend workflows pause ID [--workspace NAME]
  smashsend workflows activate ID [--workspace NAME]
      A paused workflow starts no runs; its waiting runs hold and resume when activated.
  smashsend workflows apply FILE.json [--workspace NAME]
      Creates or updates a workflow from a file holding the body of POST /v1/workflows, so
      definitions can live in version control. The workflow updated is the one whose "id"
      the file gives, else the one with the file's "name" in the workspace; with neither, a
      new one is created. An update makes a new version (runs in flight finish on theirs).
      Prints the workflow id and version. The same validation as the API (INVALID_CONDITION
      messages name the path).

list, show, pause and activate never create a store. Each prints the store it opened on stderr.`;

/** The workspace id of a name, through its keys (read-only), or by making it (apply). */
async function workspaceId(store: Store, name: string, create: boolean): Promise<string> {
  if (create) return (await store.keys.ensureWorkspace(name, Date.now())).id;
  const k = (await store.keys.listKeys()).find((x) => x.workspaceName === name);
  if (!k) throw new Error(`no workspace named "${name}" (it has no keys)`);
  return liveWorkspaceIdOf(k); // a test key's workspace is the test sibling
}

function help(): number {
  console.log(WORKFLOWS_HELP);
  return 0;
}

export async function workflows(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help') return help();
  const spec = { workspace: { type: 'string' as const }, json: { type: 'boolean' as const }, help: { type: 'boolean' as const, short: 'h' } };
  const { values, positionals } = parseCommandArgs(rest, spec, sub === 'list' ? 0 : 1);
  if (values.help) return help();
  const workspace = requireName('workspace', values.workspace ?? 'default');
  const config = configFromEnv();
  switch (sub) {
    case 'list': {
      const store = await openCliStore(config, 'read');
      try {
        const ws = await workspaceId(store, workspace, false);
        const all = [];
        let after: [number, string] | undefined;
        for (;;) {
          const page = await store.workflows.list({ workspaceId: ws, limit: 100, ...(after ? { after } : {}) });
          all.push(...page);
          if (page.length < 100) break;
          after = [page[page.length - 1]!.createdAt, page[page.length - 1]!.id];
        }
        if (values.json) {
          console.log(JSON.stringify(all.map(presentWorkflow), null, 2));
          return 0;
        }
        console.log(['ID', 'VERSION', 'STATUS', 'TRIGGER', 'NAME'].join('\t'));
        for (const w of all) {
          const t = w.definition.trigger;
          console.log([w.id, w.version, w.status, 'event' in t ? `event ${t.event}` : `segment ${t.segment} ${t.on}`, w.definition.name].join('\t'));
        }
        return 0;
      } finally {
        await store.close();
      }
    }
    case 'show':
    case 'pause':
    case 'activate': {
      const id = positionals[0];
      if (!id) throw new UsageError(`workflows ${sub} needs a workflow id: smashsend workflows ${sub} ID`);
      const store = await openCliStore(config, 'read');
      try {
        const ws = await workspaceId(store, workspace, false);
        const wf = sub === 'show' ? await store.workflows.get(ws, id) : await store.workflows.setStatus(ws, id, sub === 'pause' ? 'paused' : 'active', Date.now());
        if (!wf) throw new Error(`no workflow ${id} in workspace "${workspace}"`);
        if (sub === 'show') console.log(JSON.stringify(presentWorkflow(wf), null, 2));
        else console.log(`Workflow ${wf.id} "${wf.definition.name}" is ${wf.status}.`);
        return 0;
      } finally {
        await store.close();
      }
    }
    case 'apply': {
      const file = positionals[0];
      if (!file) throw new UsageError('workflows apply needs a file: smashsend workflows apply FILE.json');
      let body: Record<string, unknown>;
      try {
        body = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
      } catch (err) {
        throw new Error(`cannot read ${file}: ${(err as Error).message}`);
      }
      const { id: givenId, ...rest } = (body ?? {}) as Record<string, unknown>;
      let parsed;
      try {
        parsed = parseWorkflowBody(rest, { egress: { allowPrivate: config.webhook.allowPrivate, allowedHosts: config.webhook.allowedHosts } });
      } catch (err) {
        if (err instanceof InvalidWorkflowError) throw new Error(`${file}: ${err.message}`);
        throw err;
      }
      const store = await openCliStore(config, 'write');
      try {
        const ws = await workspaceId(store, workspace, true);
        let target: string | null = typeof givenId === 'string' ? givenId : null;
        if (target && !(await store.workflows.get(ws, target))) throw new Error(`no workflow ${target} in workspace "${workspace}"`);
        if (!target) {
          const same = (await store.workflows.forWorkspace(ws)).workflows.filter((w) => w.definition.name === parsed.definition.name);
          if (same.length > 1) throw new Error(`${same.length} workflows are named "${parsed.definition.name}": give "id" in the file`);
          target = same[0]?.id ?? null;
        }
        const wf = await store.workflows.save({ id: target ?? newId('wf'), workspaceId: ws, definition: parsed.definition, status: parsed.status, now: Date.now(), create: target === null });
        console.log(`${target ? 'Updated' : 'Created'} workflow ${wf!.id} "${wf!.definition.name}" (version ${wf!.version}, ${wf!.status}).`);
        return 0;
      } finally {
        await store.close();
      }
    }
    default:
      throw new UsageError(`unknown workflows command "${sub}"`);
  }
}
