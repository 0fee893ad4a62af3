#!/usr/bin/env node
/**
 * Compiles the server (src/ → dist/) only when dist/ is older than its sources: `npm start`
 * runs this first (prestart), and a full `tsc` costs 7–18 s on a small machine, on every
 * start, for nothing once the build is current. `--always` compiles regardless (npm run build).
 *
 * Current means: dist/.build-stamp exists, and no file under src/ (tests, *.test.ts, aside:
 * they are not compiled to dist/) nor tsconfig.json / tsconfig.build.json was modified after
 * the stamp's time. The stamp is written after a
 * successful compile and dated when that compile started, so an edit made during a build
 * makes the next start build again. A fresh clone has no dist/: `npm ci` builds (prepare),
 * and without it the first `npm start` does.
 *
 * Usage: node scripts/build-if-stale.mjs [--always | --check] [--root DIR]
 *   --check: only report; exit 0 if current, 1 if a compile is due.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';

const args = process.argv.slice(2);
const always = args.includes('--always');
const checkOnly = args.includes('--check');
const rootAt = args.indexOf('--root');
const root = resolve(rootAt >= 0 ? args[rootAt + 1] : process.cwd());
const stamp = join(root, 'dist', '.build-stamp');

/** Newest modification time (ms) of the build's inputs, and the file that has it. */
function newestInput() {
  let newest = { file: '', mtimeMs: 0 };
  const visit = (p) => {
    const st = statSync(p);
    if (st.isDirectory()) for (const name of readdirSync(p)) visit(join(p, name));
    else if (!p.endsWith('.test.ts') && st.mtimeMs > newest.mtimeMs) newest = { file: p, mtimeMs: st.mtimeMs };
  };
  visit(join(root, 'src'));
  for (const f of ['tsconfig.json', 'tsconfig.build.json']) if (existsSync(join(root, f))) visit(join(root, f));
  return newest;
}

function staleReason() {
  if (!existsSync(stamp)) return 'no build yet';
  const built = statSync(stamp).mtimeMs;
  const newest = newestInput();
  return newest.mtimeMs > built ? `${newest.file.slice(root.length + 1)} changed since the last build` : null;
}

/**
 * The dashboard UI (packages/dashboard → packages/dashboard/dist, by Vite) is rebuilt by a
 * plain `npm start` too when its sources are newer than its build (`npm run build` always
 * builds it). Without Vite installed (a production install without dev dependencies) the
 * existing build is served as it is.
 */
function buildDashboardIfStale() {
  const ui = join(root, 'packages', 'dashboard');
  if (!existsSync(join(ui, 'src'))) return;
  const built = join(ui, 'dist', 'index.html');
  let newest = 0;
  const visit = (p) => {
    const st = statSync(p);
    if (st.isDirectory()) for (const name of readdirSync(p)) visit(join(p, name));
    else newest = Math.max(newest, st.mtimeMs);
  };
  for (const f of ['src', 'index.html', 'vite.config.ts']) if (existsSync(join(ui, f))) visit(join(ui, f));
  if (existsSync(built) && statSync(built).mtimeMs >= newest) return;
  let vite;
  try {
    vite = createRequire(join(root, 'package.json')).resolve('vite/bin/vite.js');
  } catch {
    return;
  }
  console.error('building the dashboard UI (packages/dashboard changed since its last build)');
  const r = spawnSync(process.execPath, [vite, 'build', '--config', join(ui, 'vite.config.ts')], { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const reason = always ? 'requested' : staleReason();
if (!always && !checkOnly) buildDashboardIfStale();
if (reason === null) {
  console.error('build is current (dist/ is newer than src/); not compiling');
  process.exit(0);
}
if (checkOnly) {
  console.error(`a compile is due (${reason})`);
  process.exit(1);
}
console.error(`compiling src/ → dist/ (${reason})`);
const startedAt = new Date();
const tsc = createRequire(join(root, 'package.json')).resolve('typescript/bin/tsc');
const r = spawnSync(process.execPath, [tsc, '-p', join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
if (r.status !== 0) process.exit(r.status ?? 1);
writeFileSync(stamp, `compiled by scripts/build-if-stale.mjs; sources newer than this file's mtime trigger a rebuild\n`);
utimesSync(stamp, startedAt, startedAt);
