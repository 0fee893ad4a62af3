import { liveWorkspaceIdOf } from '../../keys/workspace-modes.js';
import { readFileSync } from 'node:fs';
import { InvalidConditionError } from '../../core/conditions/condition.js';
import { createSegment, MAX_SEGMENT_NAME, updateSegment } from '../../segments/segment-definitions.js';
import { presentSegment } from '../../segments/segments.routes.js';
import type { Store } from '../../storage/ports.js';
import { parseCommandArgs, requireName, UsageError } from '../args.js';
import { configFromEnv, openCliStore } from '../context.js';

export const SEGMENTS_HELP = `Usage:
  smashsend segments list [--workspace NAME] [--json]
      Lists the workspace's segments: id, name, status, members, build progress (processed/total).
  smashsend segments show ID [--workspace NAME]
      Prints one segment as the API shows it (JSON), rule and build progress included.
  smashsend segments apply FILE.json [--workspace NAME]
      Creates or updates segments from a file: one {"name", "rule", "id"?} object or an array
      of them. An entry with an id, or whose name matches an existing segment, updates it (a
      changed rule is built again in the background); others are created. Rules are checked
      as the API checks them (an invalid one fails with its path, nothing after it is applied).

The workspace defaults to "default". list and show never create a store.`;

async function workspaceId(store: Store, name: string, create: boolean): Promise<string> {
  if (create) return (await store.keys.ensureWorkspace(name, Date.now())).id;
  const found = (await store.keys.listKeys()).find((k) => k.workspaceName === name);
  if (!found) throw new Error(`no workspace "${name}" (it has no keys)`);
  return liveWorkspaceIdOf(found); // a test key's workspace is the test sibling
}

export async function segments(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help') {
    console.log(SEGMENTS_HELP);
    return 0;
  }
  const spec = { workspace: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } } as const;
  const { values, positionals } = parseCommandArgs(rest, spec, sub === 'list' ? 0 : 1);
  if (values.help) {
    console.log(SEGMENTS_HELP);
    return 0;
  }
  const wsName = requireName('workspace', values.workspace ?? 'default');
  if (sub !== 'list' && sub !== 'show' && sub !== 'apply') throw new UsageError(`unknown segments command "${sub}"`);
  if (sub !== 'list' && !positionals[0]) throw new UsageError(`segments ${sub} needs ${sub === 'show' ? 'a segment id' : 'a FILE.json'}`);
  const store = await openCliStore(configFromEnv(), sub === 'apply' ? 'write' : 'read');
  try {
    const ws = await workspaceId(store, wsName, sub === 'apply');
    if (sub === 'list') {
      const all = await store.segments.listSegments(ws, { memberCounts: true });
      if (values.json) {
        console.log(JSON.stringify(all.map(presentSegment), null, 2));
        return 0;
      }
      console.log(['ID', 'NAME', 'STATUS', 'MEMBERS', 'BUILD'].join('\t'));
      for (const s of all) console.log([s.id, s.name, s.status, s.memberCount, `${s.buildDone}/${s.buildTotal}`].join('\t'));
      return 0;
    }
    if (sub === 'show') {
      const s = await store.segments.getSegment(ws, positionals[0]!);
      if (!s) throw new Error(`no segment ${positionals[0]} in workspace "${wsName}"`);
      console.log(JSON.stringify(presentSegment(s), null, 2));
      return 0;
    }
    const raw = JSON.parse(readFileSync(positionals[0]!, 'utf8')) as unknown;
    const entries = Array.isArray(raw) ? raw : [raw];
    const deps = { segments: store.segments, jobs: store.jobs };
    for (const [i, e] of entries.entries()) {
      const where = Array.isArray(raw) ? `[${i}]` : '';
      if (typeof e !== 'object' || e === null) throw new Error(`${positionals[0]}${where}: must be an object {"name", "rule"}`);
      const { name, rule, id } = e as { name?: unknown; rule?: unknown; id?: unknown };
      if (typeof name !== 'string' || name.trim() === '' || name.length > MAX_SEGMENT_NAME) throw new Error(`${positionals[0]}${where}.name: must be a string of 1 to ${MAX_SEGMENT_NAME} characters`);
      const existing = typeof id === 'string' ? await store.segments.getSegment(ws, id) : (await store.segments.listSegments(ws)).find((s) => s.name === name);
      if (typeof id === 'string' && !existing) throw new Error(`${positionals[0]}${where}.id: no segment ${id} in workspace "${wsName}"`);
      try {
        const now = Date.now();
        const s = existing
          ? await updateSegment(deps, ws, existing.id, { name, ...(JSON.stringify(existing.rule) === JSON.stringify(rule) ? {} : { rule }) }, now)
          : await createSegment(deps, ws, { name, rule }, now);
        console.log(`${existing ? 'Updated' : 'Created'} ${s!.id} "${s!.name}" (${s!.status}, ${s!.buildDone}/${s!.buildTotal})`);
      } catch (err) {
        if (err instanceof InvalidConditionError) throw new Error(`${positionals[0]}${where}: ${err.message}`);
        throw err;
      }
    }
    return 0;
  } finally {
    await store.close();
  }
}
