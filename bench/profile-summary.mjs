/**
 * Sums self time by function in V8 .cpuprofile files (node --cpu-prof writes one per thread)
 * and prints the top entries, plus the share of each area (our code, fastify, pino, pg,
 * better-sqlite3, node internals, GC).
 *
 * Usage: node bench/profile-summary.mjs FILE_OR_DIR... [--top 15]
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

export function summarize(file) {
  const p = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const selfUs = new Map();
  for (let i = 0; i < p.samples.length; i++) {
    selfUs.set(p.samples[i], (selfUs.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
  }
  const fns = new Map();
  const areas = new Map();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const { functionName, url, lineNumber } = byId.get(id).callFrame;
    const name = functionName || '(anonymous)';
    if (name === '(idle)') {
      idle += us;
      continue;
    }
    total += us;
    const where = url ? `${shortUrl(url)}:${lineNumber + 1}` : '';
    const key = `${name} ${where}`.trim();
    fns.set(key, (fns.get(key) ?? 0) + us);
    const area = areaOf(name, url);
    areas.set(area, (areas.get(area) ?? 0) + us);
  }
  const sorted = (m) => [...m.entries()].sort((a, b) => b[1] - a[1]).map(([k, us]) => ({ name: k, ms: Math.round(us / 1000), pct: total ? Math.round((us / total) * 1000) / 10 : 0 }));
  return { file: basename(file), busyMs: Math.round(total / 1000), idleMs: Math.round(idle / 1000), functions: sorted(fns), areas: sorted(areas) };
}

function shortUrl(url) {
  const u = url.replace(/^file:\/\//, '');
  const nm = u.lastIndexOf('/node_modules/');
  if (nm >= 0) return u.slice(nm + '/node_modules/'.length);
  const d = u.lastIndexOf('/dist/');
  if (d >= 0) return u.slice(d + 1);
  return u.startsWith('node:') ? u : basename(u);
}

function areaOf(name, url) {
  if (name === '(garbage collector)') return 'GC';
  if (name === '(program)') return '(program: native, outside JS)';
  if (!url) return 'native / V8 builtins';
  const nm = url.match(/\/node_modules\/((?:@[^/]+\/)?[^/]+)/);
  if (nm) return nm[1];
  if (url.includes('/dist/')) return `ours: ${url.slice(url.lastIndexOf('/dist/') + 6).split('/')[0]}/`;
  if (url.startsWith('node:')) return 'node internals';
  return basename(url);
}

function files(args) {
  const out = [];
  for (const a of args) {
    if (statSync(a).isDirectory()) out.push(...readdirSync(a).filter((f) => f.endsWith('.cpuprofile')).map((f) => join(a, f)));
    else out.push(a);
  }
  return out;
}

export function formatSummary(s, top = 15) {
  const lines = [`${s.file}: ${s.busyMs} ms busy, ${s.idleMs} ms idle`];
  lines.push('  areas: ' + s.areas.slice(0, 8).map((a) => `${a.name} ${a.pct}%`).join(', '));
  for (const f of s.functions.slice(0, top)) lines.push(`  ${String(f.pct).padStart(5)}%  ${String(f.ms).padStart(6)} ms  ${f.name}`);
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const ti = args.indexOf('--top');
  const top = ti >= 0 ? Number(args.splice(ti, 2)[1]) : 15;
  const summaries = files(args).map(summarize).sort((a, b) => b.busyMs - a.busyMs);
  for (const s of summaries) console.log(`${formatSummary(s, top)}\n`);
}
