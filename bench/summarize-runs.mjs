/**
 * Medians over several `npm run bench` results, with the spread (min–max), as a markdown table:
 * what BENCHMARKS.md quotes.
 *
 * Usage: node bench/summarize-runs.mjs bench/results/2026-….json bench/results/2026-….json …
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { digitsFor, fmt } from './report.mjs';

const files = process.argv.slice(2).filter((f) => f.endsWith('.json'));
if (files.length === 0) {
  console.error('usage: node bench/summarize-runs.mjs RESULT.json…');
  process.exit(2);
}
const runs = files.map((f) => ({ file: basename(f), res: JSON.parse(readFileSync(f, 'utf8')) })).filter((r) => r.res.figures);

function median(xs) {
  const a = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((x, y) => x - y);
  if (a.length === 0) return null;
  const m = Math.floor(a.length / 2);
  return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2;
}

const order = [];
const byId = new Map();
const latest = new Map(); // label, unit and target as the newest run words them
for (const { res } of runs) {
  for (const f of res.figures) {
    if (!byId.has(f.id)) {
      byId.set(f.id, []);
      order.push(f.id);
    }
    byId.get(f.id).push(f);
    latest.set(f.id, f);
  }
}

const rows = [
  `Medians of ${runs.length} runs (${runs.map((r) => r.file.replace('.json', '')).join(', ')}); spread is min–max.`,
  '',
  '| figure | median | spread | ratio (median) | ratio spread | target | holds (runs) |',
  '| --- | ---: | --- | ---: | --- | --- | --- |',
];
for (const id of order) {
  const first = latest.get(id);
  const all = byId.get(id);
  const d = digitsFor(first.unit);
  const vals = all.map((f) => f.value).filter((v) => v !== null);
  const ratios = all.map((f) => f.ratio).filter((v) => v !== undefined && v !== null);
  const passes = all.filter((f) => f.pass !== undefined);
  const med = median(vals);
  rows.push(
    `| ${first.label} | ${med === null ? (first.detail ?? 'n/a') : `${fmt(med, d)} ${first.unit}`} | ${vals.length > 1 ? `${fmt(Math.min(...vals), d)}–${fmt(Math.max(...vals), d)}` : ''} | ` +
      `${ratios.length ? fmt(median(ratios), 2) : ''} | ${ratios.length > 1 ? `${fmt(Math.min(...ratios), 2)}–${fmt(Math.max(...ratios), 2)}` : ''} | ` +
      `${first.target ?? ''} | ${passes.length ? `${passes.filter((f) => f.pass).length}/${passes.length}` : ''} |`,
  );
}
console.log(rows.join('\n'));
