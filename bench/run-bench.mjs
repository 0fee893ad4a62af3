/**
 * `npm run bench`: the server against this machine's own ceiling, in about 6 minutes.
 *
 * Every figure is measured with autocannon in a separate process (bench/load.mjs) against the
 * real server, started as a user would start it (`node bin/smashsend.js serve`), and reported
 * as a ratio to a ceiling measured in the same run (bench/ceiling-server.mjs: a bare node:http
 * server that reads the body, JSON.parses it and sends a fixed reply), run before and after
 * ours on the same payloads. On a 2-core machine shared with other work the absolute numbers
 * move by ±30% between runs; the ratios move much less.
 *
 * Phases (each time-boxed; progress printed as it goes):
 *   ceiling (before)    single events at 50 connections, 200-event batches at 10 connections
 *   sqlite              the embedded store, worker in process: single events flat out, then at
 *                       the target rate (0.35 × ceiling: does processing keep up?), then
 *                       batches flat out, then the backlog's drain rate; queue depth and lag
 *                       read from /metrics every 2 s; peak RSS
 *   million             a fresh store, ingest only (--no-worker): 100,000 events, idle RSS;
 *                       900,000 more, idle RSS; then single events with no worker (diagnostic)
 *   backpressure        a deliberately slowed store (DEBUG_APPEND_DELAY_MS, MAX_PENDING_EVENTS):
 *                       503 share, Retry-After, RSS over the run; then the memory attack
 *                       (bench/body-attack.mjs: 80 connections of 6.4 MB batches + 200
 *                       stalled 6 MB bodies) on a server with the default byte caps: peak RSS,
 *                       503s, what the stalled connections got
 *   segment             the embedded store: /v1/batch bodies as @segment/analytics-node builds
 *                       them (15-event batches, its default flushAt, and 100-event ones), next
 *                       to our own /v1/events/batch (200-event) on the same server; events/s
 *                       as a ratio of the ceiling's batch rate
 *   reads               the embedded store: single events into one workspace, alone, then beside
 *                       reads of another, large workspace (by messageId, email, event name,
 *                       contact search) at 10 reads/s and flat out: ingest ratio with ÷ without
 *   postgres            PostgreSQL + Redis, API processes with --no-worker plus one
 *                       `smashsend worker`: 1 API (single, batches, batches with the worker
 *                       stopped), then 2 API on a fresh database; a bare multi-row INSERT of
 *                       the same rows before and after, as the batch reference
 *   workflows           SQLite, worker in process: single events flat out with no workflow, then
 *                       with 10 active workflows (triggers on the load's event with a `where`,
 *                       one webhook each to a local receiver): ingest ratio of the two, run-start
 *                       lag p99 (event receipt → run created, over a sample of runs), webhook
 *                       deliveries per second (during the load and until the backlog is sent)
 *   segments            SQLite, worker in process, 20 segments (10 trait rules, 10 `performed … within`
 *                       rules over the bench's purchase.completed events): single events flat out;
 *                       does processing keep up (max lag, drain after), the pipeline stage's lag,
 *                       and the cost of segment evaluation per processed event in µs
 *                       (smashsend_stage_seconds_total / smashsend_stage_events_total)
 *   plan                SQLite: single events flat out without a tracking plan, with a 100-entry
 *                       plan (warn mode, every event passing), and without again: ingest
 *                       ratio-with ÷ ratio-without (issue #17: within 10%)
 *   live                SQLite: single events flat out with no dashboard viewer, with 3 signed-in
 *                       live views (Server-Sent Events) of the workspace open, and with none
 *                       again: ingest with ÷ without, and what the views were sent (issue #13)
 *   ceiling (after)
 *
 * Options:
 *   --only sqlite,million,backpressure,segment,reads,postgres,workflows,segments,plan,live   run some phases (the ceiling always runs)
 *   --profile      instead: single + batch loads on SQLite and PostgreSQL servers run under
 *                  `node --cpu-prof`; prints the top self-time functions per thread
 *   --quick        1 s warm-up, 3 s measured, 200,000 instead of 1M events (checks the harness)
 *
 * Environment (bench only): BENCH_PG_URL (default postgres://postgres@127.0.0.1:5432/postgres,
 * the database the bench connects to in order to CREATE and DROP its own), BENCH_REDIS_URL
 * (default redis://127.0.0.1:6379), BENCH_LOG_LEVEL (the servers' LOG_LEVEL, default warn).
 *
 * Writes bench/results/<timestamp>.json and prints a markdown table.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, fdatasyncSync, mkdirSync, mkdtempSync, openSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { batchBody, eventJson } from './payloads.mjs';
import { runAttack } from './body-attack.mjs';
import { formatSummary, summarize } from './profile-summary.mjs';
import { fmt, table } from './report.mjs';
// The launcher shared with the tests, compiled by `npm run build` (which `npm run bench` runs first).
import { runSmashsend, spawnChild, startSmashsend, stopAll } from '../dist/testing/server-process.js';
import { CpuWindow, MemorySampler, memoryOf, nproc, round2, scrapeMetrics, sleep } from './processes.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = join(HERE, '..');
const LOAD = join(HERE, 'load.mjs');
const CEILING = join(HERE, 'ceiling-server.mjs');
const BARE = join(HERE, 'pg-bare-insert.mjs');
const READ_LOAD = join(HERE, 'read-load.mjs');

const { values: opts } = parseArgs({
  options: { only: { type: 'string' }, profile: { type: 'boolean', default: false }, quick: { type: 'boolean', default: false } },
});
const PHASES = ['sqlite', 'million', 'backpressure', 'segment', 'reads', 'postgres', 'workflows', 'segments', 'plan', 'live'];
const only = opts.only ? new Set(opts.only.split(',')) : null;
for (const p of only ?? []) {
  if (!PHASES.includes(p)) {
    console.error(`--only: unknown phase "${p}" (phases: ${PHASES.join(', ')})`);
    process.exit(2);
  }
}
const wants = (phase) => !only || only.has(phase);

const QUICK = opts.quick;
const WARMUP_SEC = QUICK ? 1 : 2;
const MEASURE_SEC = QUICK ? 3 : 8;
const SINGLE_CONNECTIONS = 50;
const BATCH_CONNECTIONS = 10;
const BATCH_SIZE = 200;
/**
 * Prebuilt bodies per load process (~0.3 s and ~35 MB to build 100,000 singles). Our server
 * takes fewer than this in a measured run; past the pool, bodies are built on the fly (ours)
 * or the pool is cycled (the ceiling, which stores nothing).
 */
const SINGLE_POOL = 100_000;
const BATCH_POOL = 1_000;
/** Million phase: requests of 200 events; the first checkpoint, then the rest. */
const MILLION_FIRST = QUICK ? 100 : 500;
const MILLION_REST = QUICK ? 900 : 4_500;
const MILLION_CONNECTIONS = 10;
/** Backpressure: each append waits this long, and at most this many events may await commit. */
const SLOW_APPEND_MS = 200;
const SLOW_MAX_PENDING = 1_000;
const BACKPRESSURE_CONNECTIONS = 50;
/**
 * The memory attack (issue #15): full 6.4 MB batches on ATTACK_CONNECTIONS connections and
 * ATTACK_STALLED bodies that declare 6 MB and stall, for ATTACK_SEC, against the defaults
 * (MAX_PENDING_BYTES, MAX_CONCURRENT_BATCHES) with REQUEST_BODY_TIMEOUT_MS shortened so the
 * stalled ones are answered 408 inside the phase. RSS must stay under ATTACK_RSS_BOUND_MIB.
 */
const ATTACK_CONNECTIONS = 80;
const ATTACK_STALLED = 200;
const ATTACK_SEC = QUICK ? 6 : 12;
const ATTACK_BODY_TIMEOUT_MS = QUICK ? 4000 : 8000;
const ATTACK_RSS_BOUND_MIB = 512;
/** Reads phase: 200-event batches stored in the read workspace first, and the read loads. */
const READS_SEED_BATCHES = QUICK ? 100 : 1_500;
const READS_PACED_PER_SEC = 10;
const READS_CONNECTIONS = 4;

/**
 * Queue depth and lag are read from /metrics this often during a load. Not every second: on
 * SQLite a scrape with a large backlog costs the HTTP thread ~16 ms (at 300,000 queued), and
 * the bench should not be what slows the server down.
 */
const QUEUE_SAMPLE_MS = 2000;

const TARGETS = { singleRatio: 0.35, singleP99Ms: 10, batchRatio: 0.1, pgBareRatio: 0.8 };
const UNLIMITED = '1000000000';

const PG_ADMIN_URL = process.env.BENCH_PG_URL || 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379';

const runId = randomBytes(4).toString('hex');
const t0 = performance.now();
const startedAt = new Date();
const tempDirs = [];
const pgDatabases = [];

function log(msg) {
  const s = ((performance.now() - t0) / 1000).toFixed(1).padStart(6);
  console.log(`[${s}s] ${msg}`);
}

function mean(a, b) {
  return a === undefined ? b : b === undefined ? a : (a + b) / 2;
}

function machineInfo() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const meminfo = readFileSync('/proc/meminfo', 'utf8');
  return {
    nproc: nproc(),
    cpuModel: cpuinfo.match(/^model name\s*:\s*(.*)$/m)?.[1] ?? 'unknown',
    memTotalMiB: Math.round(Number(meminfo.match(/^MemTotal:\s+(\d+)/m)?.[1]) / 1024),
    node: process.version,
    kernel: readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim(),
    loadAvgAtStart: readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '),
    date: startedAt.toISOString(),
    git: gitState(),
  };
}

/** The commit measured, and whether the working tree had changes on top of it. */
function gitState() {
  try {
    const head = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src', 'migrations'], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').filter(Boolean).length;
    return dirty ? `${head} + ${dirty} uncommitted files in src/ or migrations/` : head;
  } catch {
    return 'unknown';
  }
}

function tempDir(tag) {
  const d = mkdtempSync(join(tmpdir(), `smashsend-bench-${tag}-`));
  tempDirs.push(d);
  return d;
}

/** The server's environment: only what we set (plus PATH/HOME), so a developer's shell cannot skew a run. */
function serverEnv(databaseUrl, extra = {}) {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    DATABASE_URL: databaseUrl,
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL || 'warn',
    RATE_LIMIT_SINGLE_PER_MIN: UNLIMITED,
    RATE_LIMIT_BATCH_PER_MIN: UNLIMITED,
    RATE_LIMIT_API_PER_MIN: UNLIMITED,
    ...extra,
  };
}

/** `node bin/smashsend.js serve` as a user runs it; resolves once it prints its URL (and first key). */
async function startServer(name, databaseUrl, { args = [], env = {}, cpuProfDir } = {}) {
  const nodeArgs = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
  const ready = /Listening on (http:\/\/\S+)/;
  const child = await startSmashsend(['serve', ...args], { nodeArgs, env: serverEnv(databaseUrl, env), cwd: ROOT, group: true, ready, name });
  // The banner is one write: when the URL is there, so is the key (on a fresh store).
  const key = child.output().match(/sk_live_[A-Za-z0-9_-]+/)?.[0] ?? null;
  return { name, child, pid: child.pid, url: child.output().match(ready)[1], key };
}

async function startWorker(name, databaseUrl, { cpuProfDir } = {}) {
  const nodeArgs = cpuProfDir ? ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`] : [];
  const child = await startSmashsend(['worker'], { nodeArgs, env: { ...serverEnv(databaseUrl), WORKER_PORT: '0' }, cwd: ROOT, group: true, ready: /worker \S+ running/, name });
  return { name, child, pid: child.pid };
}

async function startCeiling() {
  const child = spawnChild(process.execPath, [CEILING, '0'], { env: { PATH: process.env.PATH }, cwd: ROOT, group: true });
  const m = await child.waitFor(/listening (\d+)/, 10_000, 'ceiling server');
  return { name: 'ceiling', child, pid: child.pid, url: `http://127.0.0.1:${m[1]}` };
}

/**
 * Runs load.mjs or pg-bare-insert.mjs; `onStart(child)` when its measured run begins,
 * `onResult(child)` when it reports (it is still alive then, so its CPU can be read).
 */
async function runChild(script, cfg, { onStart, onResult } = {}) {
  const child = spawnChild(process.execPath, [script, JSON.stringify(cfg)], { group: true, ipc: true });
  let result = null;
  let error = null;
  let started = Promise.resolve();
  child.process.on('message', (m) => {
    if (m.type === 'start') {
      started = Promise.resolve(onStart?.(child));
      started.catch(() => {}); // awaited (and so reported) once the child has exited
    } else if (m.type === 'result') {
      result = m;
      onResult?.(child);
    } else if (m.type === 'error') error = m.message;
  });
  const { code } = await child.exited;
  await started;
  if (!result) throw new Error(`${script} failed (exit ${code}): ${error ?? 'no result'}`);
  return result;
}

/** The JSON config of one load.mjs run (see its header). */
function loadOptions({ targets, key, kind, tag, connections, unique = true, overallRate, amount, warmupSec = WARMUP_SEC, durationSec = MEASURE_SEC, batchSize }) {
  return {
    targets,
    key,
    kind,
    ...(batchSize ? { batchSize } : {}),
    path: kind === 'single' ? '/v1/events' : kind === 'segment' ? '/v1/batch' : '/v1/events/batch',
    connections,
    warmupSec: amount ? 0 : warmupSec,
    durationSec,
    amount,
    overallRate,
    idPrefix: `${runId}.${tag}`,
    poolSize: kind === 'single' ? SINGLE_POOL : amount ? Math.min(amount, BATCH_POOL) : BATCH_POOL,
    unique,
  };
}

/** Sum of counters over API processes; queue figures (database-wide) from the first. */
async function readServers(servers) {
  const all = await Promise.all(servers.map((s) => scrapeMetrics(s.url)));
  return {
    accepted: all.reduce((a, m) => a + (m.smashsend_events_accepted_total ?? 0), 0),
    processed: all.reduce((a, m) => a + (m.smashsend_events_processed_total ?? 0), 0),
    backpressure: all.reduce((a, m) => a + (m.smashsend_ingest_backpressure_total ?? 0), 0),
    depth: all[0]?.smashsend_queue_depth ?? null,
    lagSec: all[0]?.smashsend_queue_lag_seconds ?? null,
  };
}

/**
 * One measured load: autocannon in its own process; around its measured run, CPU per process,
 * memory of `memPids`, accepted/processed counters, and queue depth and lag every
 * QUEUE_SAMPLE_MS.
 */
async function measure(label, cfg, { servers = [], procs = {}, memPids = [], during } = {}) {
  const what = cfg.amount ? `${fmt(cfg.amount)} requests` : `${cfg.warmupSec}s warm-up + ${cfg.durationSec}s`;
  log(`${label}: ${cfg.kind}, ${cfg.connections} connections${cfg.overallRate ? `, ${fmt(cfg.overallRate)} req/s` : ''}, ${what}`);
  let cpu;
  let mem;
  let before;
  let tStart;
  let timer;
  let cpuUse;
  let memory;
  const samples = [];
  const duringTasks = [];
  const r = await runChild(LOAD, cfg, {
    onStart: async (child) => {
      tStart = performance.now();
      cpu = new CpuWindow({ ...(typeof procs === 'function' ? await procs() : procs), load: child.pid });
      mem = new MemorySampler(memPids);
      if (servers.length) {
        before = await readServers(servers);
        timer = setInterval(() => {
          const t = round2((performance.now() - tStart) / 1000);
          readServers(servers).then((s) => samples.push({ t, ...s }), () => {});
        }, QUEUE_SAMPLE_MS);
      }
      if (during) duringTasks.push(during());
    },
    onResult: () => {
      cpuUse = cpu?.end();
      memory = mem?.stop();
    },
  });
  clearInterval(timer);
  for (const srv of servers) {
    if (!srv.child.running()) {
      const { exitCode, signalCode } = srv.child.process;
      throw new Error(`${srv.name} exited during "${label}" (code ${exitCode}, signal ${signalCode}):\n${srv.child.output().slice(-2000)}`);
    }
  }
  const duringResult = duringTasks.length ? await duringTasks[0] : undefined;
  const out = { label, load: r, cpu: cpuUse, memory, during: duringResult };
  // CPU cost per event (µs), per process and for all of ours together (the load generator
  // excluded): unlike throughput, it barely moves when other work shares the machine.
  if (cpuUse && r.eventsPerSec > 0) {
    out.cpuUsPerEvent = {};
    let total = 0;
    for (const [name, v] of Object.entries(cpuUse)) {
      if (typeof v !== 'object' || name === 'load') continue;
      out.cpuUsPerEvent[name] = round2((v.cores * 1e6) / r.eventsPerSec);
      total += v.cores;
    }
    out.cpuUsPerEvent.total = round2((total * 1e6) / r.eventsPerSec);
  }
  if (servers.length && before) {
    const after = await readServers(servers);
    const sec = (performance.now() - tStart) / 1000;
    const accepted = after.accepted - before.accepted;
    // Processed = accepted − growth of the queue (exact unless processing fails; works for
    // standalone workers, which have no /metrics of their own).
    const processed = accepted - ((after.depth ?? 0) - (before.depth ?? 0));
    out.server = {
      acceptedPerSec: accepted / sec,
      processedPerSec: processed / sec,
      depthStart: before.depth,
      depthEnd: after.depth,
      lagEndSec: after.lagSec,
      maxLagSec: Math.max(after.lagSec ?? 0, ...samples.map((s) => s.lagSec ?? 0)),
      maxDepth: Math.max(after.depth ?? 0, ...samples.map((s) => s.depth ?? 0)),
      backpressure503: after.backpressure - before.backpressure,
      samples,
    };
  }
  const l = r.latencyMs;
  const non2xx = Object.entries(r.status).filter(([c]) => Number(c) >= 300);
  log(
    `  ${fmt(r.okPerSec)} req/s, ${fmt(r.eventsPerSec)} events/s, p50 ${l.p50} ms, p99 ${l.p99} ms` +
      (non2xx.length ? `, non-2xx ${non2xx.map(([c, n]) => `${c}×${n}`).join(' ')}` : '') +
      (r.errors ? `, errors ${r.errors}` : '') +
      (out.server ? `; stored ${fmt(out.server.acceptedPerSec)}/s, processed ${fmt(out.server.processedPerSec)}/s, max lag ${round2(out.server.maxLagSec)} s` : ''),
  );
  if (cpuUse) {
    const parts = Object.entries(cpuUse)
      .filter(([, v]) => typeof v === 'object')
      .map(([k, v]) =>
        v.mainThread !== undefined
          ? `${k} ${v.cores} (main ${v.mainThread} + ${v.mainThreadWaitingForCpu} waiting, busiest other ${v.busiestOtherThread} + ${v.busiestOtherThreadWaitingForCpu})`
          : `${k} ${v.cores} (+ ${v.allThreadsWaitingForCpu} waiting)`,
      );
    log(`  CPU cores (busy + runnable but waiting for a core): ${parts.join(', ')}; machine ${cpuUse.machineBusyCores}/${nproc()}`);
    if (out.cpuUsPerEvent) log(`  CPU per event: ${Object.entries(out.cpuUsPerEvent).map(([k, v]) => `${k} ${v} µs`).join(', ')}`);
  }
  return out;
}

/** Waits (at most `timeoutSec`) for the queue to empty; the drain rate is processing with ingest idle. */
async function drain(server, timeoutSec, label) {
  const start = performance.now();
  const first = await readServers([server]);
  let depth = first.depth;
  while (depth > 0 && performance.now() - start < timeoutSec * 1000) {
    await sleep(250);
    depth = (await readServers([server])).depth;
  }
  const sec = (performance.now() - start) / 1000;
  const r = { startDepth: first.depth, endDepth: depth, seconds: round2(sec), drained: depth === 0, eventsPerSec: first.depth > 0 ? (first.depth - depth) / sec : null };
  log(`  ${label}: queue ${fmt(first.depth)} → ${fmt(depth)} in ${r.seconds} s${r.eventsPerSec ? ` (${fmt(r.eventsPerSec)} events/s)` : ''}`);
  return r;
}

// ─── phases ──────────────────────────────────────────────────────────────────────────────

async function ceilingPhase(when) {
  const c = await startCeiling();
  try {
    const procs = { server: c.pid };
    const single = await measure(`ceiling ${when}`, loadOptions({ targets: [c.url], kind: 'single', tag: `ceil-${when}-s`, connections: SINGLE_CONNECTIONS, unique: false }), { procs, memPids: [c.pid] });
    const batch = await measure(`ceiling ${when}`, loadOptions({ targets: [c.url], kind: 'batch', tag: `ceil-${when}-b`, connections: BATCH_CONNECTIONS, unique: false }), { procs, memPids: [c.pid] });
    return { single, batch };
  } finally {
    await c.child.stop();
  }
}

/**
 * The disk's own commit floor (issue #16 item 5): 16 KB appended and `fdatasync`ed, one after
 * another, in the directory the SQLite database is in, as a WAL commit does; p50/p99 in ms.
 * Every acknowledged single event waits for one such sync, so its p99 bounds ours from below.
 */
function fdatasyncProbe(dir, n = QUICK ? 100 : 300) {
  const file = join(dir, 'fdatasync-probe');
  const fd = openSync(file, 'a');
  const block = Buffer.alloc(16 * 1024, 1);
  const ms = [];
  try {
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      writeSync(fd, block);
      fdatasyncSync(fd);
      ms.push(performance.now() - t);
    }
  } finally {
    closeSync(fd);
    rmSync(file, { force: true });
  }
  ms.sort((a, b) => a - b);
  const at = (q) => round2(ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]);
  const out = { samples: n, p50: at(0.5), p99: at(0.99) };
  log(`  bare fdatasync of 16 KB beside the database: p50 ${out.p50} ms, p99 ${out.p99} ms (${n} syncs)`);
  return out;
}

async function sqlitePhase(ceilingBefore, { cpuProfDir } = {}) {
  const dir = tempDir('sqlite');
  const s = await startServer('sqlite server', `sqlite:${join(dir, 'db.sqlite')}`, { cpuProfDir });
  const out = {};
  try {
    // With the server idle: the disk's floor for the single-event p99 next to it.
    out.fdatasyncMs = fdatasyncProbe(dir);
    const ctx = { servers: [s], procs: { server: s.pid }, memPids: [s.pid] };
    out.single = await measure('sqlite', loadOptions({ targets: [s.url], key: s.key, kind: 'single', tag: 'sq-s', connections: SINGLE_CONNECTIONS }), ctx);
    out.drainAfterSingle = await drain(s, 5, 'drain after single');
    if (!cpuProfDir && ceilingBefore) {
      // Processing must keep up with ingest at the target rate: 0.35 × the ceiling's single rate.
      const rate = Math.round(TARGETS.singleRatio * ceilingBefore.single.load.okPerSec);
      out.atTargetRate = await measure('sqlite at target rate', loadOptions({ targets: [s.url], key: s.key, kind: 'single', tag: 'sq-t', connections: SINGLE_CONNECTIONS, overallRate: rate, warmupSec: 1 }), ctx);
      out.atTargetRate.requestedRate = rate;
      out.drainAfterTarget = await drain(s, 5, 'drain after target-rate run');
    }
    out.batch = await measure('sqlite', loadOptions({ targets: [s.url], key: s.key, kind: 'batch', tag: 'sq-b', connections: BATCH_CONNECTIONS }), ctx);
    // The backlog left by the batch run: its drain rate is processing with ingest idle (a
    // rate, so the window need not reach an empty queue).
    out.drainAfterBatch = await drain(s, QUICK ? 5 : 10, 'drain after batch');
    out.peakRssMiB = round2(memoryOf(s.pid)?.hwm);
    log(`  peak RSS of the server (VmHWM): ${fmt(out.peakRssMiB)} MiB`);
  } finally {
    await s.child.stop();
  }
  return out;
}

/** The 20 segment rules of the segments phase, over the fields of payloads.mjs's events. */
function benchSegmentRules() {
  const rules = [];
  const plans = ['free', 'pro', 'team'];
  for (let i = 0; i < 10; i++) {
    rules.push(
      i % 2 === 0
        ? { property: 'contact.plan', op: 'eq', value: plans[i % 3] }
        : { all: [{ property: 'contact.n', op: 'gte', value: i * 1000 }, { property: 'contact.plan', op: 'neq', value: 'free' }] },
    );
  }
  for (let i = 0; i < 10; i++) {
    rules.push({
      performed: 'purchase.completed',
      count: { gte: 1 + (i % 4) },
      within: ['1h', '1d', '30d', '90s'][i % 4],
      ...(i % 2 ? { where: { property: 'event.amount', op: 'gt', value: i * 40 } } : {}),
    });
  }
  return rules;
}

async function segmentsPhase() {
  const dir = tempDir('segments');
  const s = await startServer('sqlite server (20 segments)', `sqlite:${join(dir, 'db.sqlite')}`);
  const out = {};
  try {
    // BENCH_SEGMENTS (default 20, at most 20): fewer segments, 0 for the same run without any.
    const count = Math.min(20, Number(process.env.BENCH_SEGMENTS ?? 20));
    for (const [i, rule] of benchSegmentRules().slice(0, count).entries()) {
      const r = await fetch(`${s.url}/v1/segments`, {
        method: 'POST',
        headers: { authorization: `Bearer ${s.key}`, 'content-type': 'application/json' },
        body: JSON.stringify({ name: `bench ${i}`, rule }),
      });
      if (r.status !== 201) throw new Error(`creating segment ${i}: ${r.status} ${await r.text()}`);
    }
    const ctx = { servers: [s], procs: { server: s.pid }, memPids: [s.pid] };
    const before = await scrapeMetrics(s.url);
    out.segments = count;
    out.single = await measure(`segments (${count})`, loadOptions({ targets: [s.url], key: s.key, kind: 'single', tag: 'sg-s', connections: SINGLE_CONNECTIONS }), ctx);
    out.drainAfterSingle = await drain(s, QUICK ? 5 : 15, 'drain after single (segments)');
    const after = await scrapeMetrics(s.url);
    const stage = 'stage="segments.membership"';
    const sec = (after[`smashsend_stage_seconds_total{${stage}}`] ?? 0) - (before[`smashsend_stage_seconds_total{${stage}}`] ?? 0);
    const events = (after[`smashsend_stage_events_total{${stage}}`] ?? 0) - (before[`smashsend_stage_events_total{${stage}}`] ?? 0);
    out.stageEvents = events;
    out.segmentMicrosPerEvent = events > 0 ? round2((sec * 1e6) / events) : null;
    out.pipelineLagSec = after['smashsend_jobs_lag_seconds{kind="pipeline.after_merge"}'] ?? null;
    log(`  segment evaluation: ${fmt(events)} events through the stage, ${out.segmentMicrosPerEvent ?? '-'} µs per event (stage wall time); pipeline lag at the end ${out.pipelineLagSec ?? '-'} s`);
  } finally {
    await s.child.stop();
  }
  return out;
}

/**
 * Segment-compatible ingestion on the embedded store (worker in process, as `npm start`):
 * analytics-node's /v1/batch bodies of 15 events (its default flushAt) and of 100, then our
 * own 200-event batches on the same server as the reference. Each run's prefix is new, so
 * every event is stored (no dedup shortcut).
 */
async function segmentPhase() {
  const dir = tempDir('segment');
  const s = await startServer('segment server', `sqlite:${join(dir, 'db.sqlite')}`);
  const out = {};
  try {
    const ctx = { servers: [s], procs: { server: s.pid }, memPids: [s.pid] };
    for (const size of [15, 100]) {
      out[`segment${size}`] = await measure(`segment /v1/batch of ${size}`, loadOptions({ targets: [s.url], key: s.key, kind: 'segment', batchSize: size, tag: `sg-${size}`, connections: BATCH_CONNECTIONS }), ctx);
      out[`drainAfter${size}`] = await drain(s, QUICK ? 5 : 10, `drain after segment ${size}`);
    }
    out.ours = await measure('segment phase: our /v1/events/batch of 200', loadOptions({ targets: [s.url], key: s.key, kind: 'batch', tag: 'sg-ours', connections: BATCH_CONNECTIONS }), ctx);
  } finally {
    await s.child.stop();
  }
  return out;
}

/**
 * Does memory grow with stored volume? A fresh store, ingest only (`serve --no-worker`): with
 * the worker on, SQLite processing stalls while batches arrive flat out (see the batch phase),
 * so 1,000,000 events would leave a ~1M backlog whose drain (~10,000 events/s) does not fit
 * the 5-minute budget, and RSS read mid-drain measures the worker's working set, not the
 * stored volume. RSS is read idle after the first 100,000 and after 1,000,000 events.
 */
async function millionPhase() {
  const dir = tempDir('million');
  const dbPath = join(dir, 'db.sqlite');
  const s = await startServer('sqlite server (million, --no-worker)', `sqlite:${dbPath}`, { args: ['--no-worker'] });
  const out = {};
  const dbSizeMiB = () => round2(['', '-wal'].reduce((a, ext) => a + (existsSync(dbPath + ext) ? statSync(dbPath + ext).size : 0), 0) / 2 ** 20);
  const idleReading = async () => {
    await sleep(1500);
    const m = await scrapeMetrics(s.url);
    return { ...memoryOf(s.pid), mainHeapUsedMiB: round2((m.nodejs_heap_size_used_bytes ?? NaN) / 2 ** 20), dbMiB: dbSizeMiB(), stored: m.smashsend_events_accepted_total };
  };
  /** Ingest rate over the first and the last ~10 s of a run, from the queue samples. */
  const rates = (r) => {
    const xs = r.server?.samples ?? [];
    if (xs.length < 2) return { first10s: null, last10s: null };
    const rate = (a, b) => (b.t > a.t ? (b.accepted - a.accepted) / (b.t - a.t) : null);
    const end = xs[xs.length - 1];
    const tenIn = xs.find((x) => x.t >= xs[0].t + 10) ?? end;
    const tenBeforeEnd = [...xs].reverse().find((x) => x.t <= end.t - 10) ?? xs[0];
    return { first10s: rate(xs[0], tenIn), last10s: rate(tenBeforeEnd, end) };
  };
  try {
    const ctx = { servers: [s], procs: { server: s.pid }, memPids: [s.pid] };
    const first = MILLION_FIRST * BATCH_SIZE;
    const total = (MILLION_FIRST + MILLION_REST) * BATCH_SIZE;
    out.first = await measure(`million: first ${fmt(first)} events (--no-worker)`, loadOptions({ targets: [s.url], key: s.key, kind: 'batch', tag: 'm1', connections: MILLION_CONNECTIONS, amount: MILLION_FIRST }), ctx);
    out.afterFirst = await idleReading();
    log(`  idle after ${fmt(out.afterFirst.stored)} stored: RSS ${fmt(out.afterFirst.rss)} MiB (anon ${fmt(out.afterFirst.anon)}, main heap ${fmt(out.afterFirst.mainHeapUsedMiB)}), database ${fmt(out.afterFirst.dbMiB)} MiB`);
    out.rest = await measure(`million: next ${fmt(total - first)} events (--no-worker)`, loadOptions({ targets: [s.url], key: s.key, kind: 'batch', tag: 'm2', connections: MILLION_CONNECTIONS, amount: MILLION_REST }), ctx);
    out.restRates = rates(out.rest);
    out.afterAll = await idleReading();
    out.rssGrowth = out.afterAll.rss / out.afterFirst.rss;
    // Diagnostic: single events with no processing on the writer thread (compare with the
    // sqlite phase, where the worker shares that thread), on a store now holding 1M events.
    out.singleIngestOnly = await measure('sqlite single events, ingest only (--no-worker)', loadOptions({ targets: [s.url], key: s.key, kind: 'single', tag: 'm-s', connections: SINGLE_CONNECTIONS }), ctx);
    out.peakRssMiB = out.afterAll.hwm;
    log(
      `  idle after ${fmt(out.afterAll.stored)} stored: RSS ${fmt(out.afterAll.rss)} MiB (anon ${fmt(out.afterAll.anon)}, main heap ${fmt(out.afterAll.mainHeapUsedMiB)}), ` +
        `×${round2(out.rssGrowth)} of the first checkpoint; database ${fmt(out.afterAll.dbMiB)} MiB; peak during ingest ${fmt(out.peakRssMiB)} MiB; ` +
        `ingest ${fmt(out.restRates.first10s)} events/s in its first 10 s, ${fmt(out.restRates.last10s)} in its last 10 s`,
    );
  } finally {
    await s.child.stop();
  }
  return out;
}

async function backpressurePhase() {
  const dir = tempDir('backpressure');
  const s = await startServer('sqlite server (slowed)', `sqlite:${join(dir, 'db.sqlite')}`, {
    env: { DEBUG_APPEND_DELAY_MS: String(SLOW_APPEND_MS), MAX_PENDING_EVENTS: String(SLOW_MAX_PENDING) },
  });
  try {
    // While the load runs, send batches of our own until one is refused, to record the 503 as a client sees it.
    const probe = async () => {
      await sleep(1500);
      for (let i = 0; i < 50; i++) {
        const res = await fetch(`${s.url}/v1/events/batch`, {
          method: 'POST',
          headers: { authorization: `Bearer ${s.key}`, 'content-type': 'application/json' },
          body: batchBody(`${runId}.probe`, i, BATCH_SIZE),
        });
        const body = await res.json().catch(() => null);
        if (res.status === 503) return { status: 503, retryAfter: res.headers.get('retry-after'), code: body?.code, message: body?.message };
      }
      return { status: null };
    };
    const r = await measure(
      `backpressure (append +${SLOW_APPEND_MS} ms, MAX_PENDING_EVENTS=${SLOW_MAX_PENDING})`,
      loadOptions({ targets: [s.url], key: s.key, kind: 'batch', tag: 'bp', connections: BACKPRESSURE_CONNECTIONS }),
      { servers: [s], procs: { server: s.pid }, memPids: [s.pid], during: probe },
    );
    const status = r.load.status;
    r.share503 = (status[503] ?? 0) / r.load.requests;
    const mem = r.memory[s.pid];
    log(
      `  503 share ${fmt(r.share503 * 100, 1)}%, Retry-After ${r.during?.retryAfter ?? 'n/a'} (${r.during?.code ?? 'no 503 seen'}); ` +
        `RSS ${fmt(mem.first)} → max ${fmt(mem.max)} → ${fmt(mem.last)} MiB over the run`,
    );
    await s.child.stop();
    r.attack = await bodyAttack();
    return r;
  } finally {
    await s.child.stop();
  }
}

/** The memory attack against a server of normal speed with the default byte caps. */
async function bodyAttack() {
  const dir = tempDir('attack');
  const s = await startServer('sqlite server (memory attack)', `sqlite:${join(dir, 'db.sqlite')}`, {
    env: { REQUEST_BODY_TIMEOUT_MS: String(ATTACK_BODY_TIMEOUT_MS) },
  });
  try {
    log(`memory attack: ${ATTACK_CONNECTIONS} connections of 6.4 MB batches + ${ATTACK_STALLED} stalled 6 MB bodies, ${ATTACK_SEC} s (REQUEST_BODY_TIMEOUT_MS=${ATTACK_BODY_TIMEOUT_MS})`);
    const idle = memoryOf(s.pid);
    const sampler = new MemorySampler([s.pid]);
    // In this process, not a child: the attack is connections and bytes, not CPU-heavy requests.
    const r = await runAttack({ url: s.url, key: s.key, concurrent: ATTACK_CONNECTIONS, stalled: ATTACK_STALLED, durationSec: ATTACK_SEC, prefix: `${runId}.atk` });
    const mem = sampler.stop()[s.pid];
    const out = { ...r, idleRssMiB: round2(idle?.rss), maxRssMiB: mem.max, hwmMiB: mem.hwm, boundMiB: ATTACK_RSS_BOUND_MIB };
    log(
      `  statuses ${JSON.stringify(r.statuses)}, stalled ${JSON.stringify(r.stalledStatuses)}, full batches p50 ${r.okLatencyMs.p50} ms p99 ${r.okLatencyMs.p99} ms; ` +
        `RSS idle ${fmt(out.idleRssMiB)} → max ${fmt(mem.max)} MiB (VmHWM ${fmt(mem.hwm)}), bound ${ATTACK_RSS_BOUND_MIB} MiB`,
    );
    return out;
  } finally {
    await s.child.stop();
  }
}

/** `smashsend keys create` on a store (before its server starts): the secret of a new key for `workspace`. */
function createKey(databaseUrl, workspace) {
  const r = runSmashsend(['keys', 'create', '--workspace', workspace], { env: serverEnv(databaseUrl), cwd: ROOT });
  if (r.status !== 0) throw new Error(`keys create failed (${r.status}): ${r.stderr}`);
  return r.stdout.trim().split('\n').pop();
}

/**
 * A read must never stall ingest (issue #15). One SQLite server, worker in process: single
 * events into one workspace, alone, then beside a read load on another workspace holding
 * READS_SEED_BATCHES × 200 events (the issue's case: 545,000 events, 78 reads in 10 s took a
 * neighbour's ingest from 5,540 to 80 req/s). The reads cycle through GET by messageId
 * (stored events, some still queued), by email, by a rare event name, email and event name
 * together, a page from the middle of the workspace, and a contact search that matches nothing: the shapes that used to
 * walk the whole workspace. Figure: ingest with reads ÷ ingest alone.
 */
async function readsPhase() {
  const dir = tempDir('reads');
  const dbUrl = `sqlite:${join(dir, 'db.sqlite')}`;
  const readKey = createKey(dbUrl, 'reads');
  const ingestKey = createKey(dbUrl, 'ingest');
  const s = await startServer('sqlite server (reads)', dbUrl);
  const out = {};
  try {
    const ctx = { servers: [s], procs: { server: s.pid }, memPids: [s.pid] };
    const seedTag = 'rd-seed';
    const seedStart = Date.now();
    out.seed = await measure(`reads: storing ${fmt(READS_SEED_BATCHES * BATCH_SIZE)} events in the read workspace`, loadOptions({ targets: [s.url], key: readKey, kind: 'batch', tag: seedTag, connections: BATCH_CONNECTIONS, amount: READS_SEED_BATCHES }), ctx);
    const seedMiddle = Math.round((seedStart + Date.now()) / 2);
    out.drainAfterSeed = await drain(s, QUICK ? 5 : 20, 'processing the read workspace');
    const deepCursor = Buffer.from(JSON.stringify([seedMiddle, Number.MAX_SAFE_INTEGER])).toString('base64url');
    // messageIds as bench/payloads.mjs makes them: `${idPrefix}.${n}`, emails user0..999.
    const n = READS_SEED_BATCHES * BATCH_SIZE;
    const paths = [];
    for (let i = 0; i < 60; i++) {
      const id = `${runId}.${seedTag}.${Math.floor(((i * 7919) % 997) / 997 * n)}`;
      const email = `user${(i * 37) % 1000}@example.com`;
      paths.push(
        `/v1/events/${encodeURIComponent(id)}`,
        `/v1/events?email=${encodeURIComponent(email)}&limit=50`,
        '/v1/events?event=rare.event&limit=50',
        `/v1/events?email=${encodeURIComponent(email)}&event=rare.event&limit=50`,
        `/v1/events?limit=50&cursor=${deepCursor}`,
        '/v1/contacts?search=no-such-contact&limit=50',
      );
    }
    out.depthAtReads = (await readServers([s])).depth;
    const ingest = (tag) => loadOptions({ targets: [s.url], key: ingestKey, kind: 'single', tag, connections: SINGLE_CONNECTIONS });
    const reads = (overallRate) => () =>
      runChild(READ_LOAD, { target: s.url, key: readKey, paths, connections: READS_CONNECTIONS, durationSec: MEASURE_SEC, ...(overallRate ? { overallRate } : {}) });
    out.alone = await measure('reads: single events, no reads', ingest('rd-a'), ctx);
    out.paced = await measure(`reads: single events beside ${READS_PACED_PER_SEC} reads/s`, ingest('rd-p'), { ...ctx, during: reads(READS_PACED_PER_SEC) });
    out.flat = await measure(`reads: single events beside reads flat out (${READS_CONNECTIONS} connections)`, ingest('rd-f'), { ...ctx, during: reads(null) });
    for (const k of ['paced', 'flat']) {
      const r = out[k];
      r.ratio = r.load.okPerSec / out.alone.load.okPerSec;
      log(`  ${k}: ingest ${fmt(r.load.okPerSec)} req/s = ${fmt(r.ratio, 2)} of ${fmt(out.alone.load.okPerSec)} alone; reads ${fmt(r.during.okPerSec, 1)}/s, p50 ${r.during.latencyMs.p50} ms, p99 ${r.during.latencyMs.p99} ms, statuses ${JSON.stringify(r.during.status)}`);
    }
  } finally {
    await s.child.stop();
  }
  return out;
}

function redisReachable(url) {
  const u = new URL(url);
  return new Promise((resolve) => {
    const sock = connect({ host: u.hostname, port: Number(u.port || 6379) }, () => sock.write('PING\r\n'));
    const done = (ok) => {
      sock.destroy();
      resolve(ok);
    };
    sock.setTimeout(2000, () => done(false));
    sock.on('data', (d) => done(d.toString().startsWith('+PONG')));
    sock.on('error', () => done(false));
  });
}

async function withAdmin(fn) {
  const c = new pg.Client({ connectionString: PG_ADMIN_URL, connectionTimeoutMillis: 5000 });
  await c.connect();
  try {
    return await fn(c);
  } finally {
    await c.end().catch(() => {});
  }
}

async function dropDatabase(name) {
  await withAdmin((c) => c.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`));
}

/** PIDs of the PostgreSQL backends serving `db` (their CPU is the database's share of a figure). */
async function backendPids(db) {
  return withAdmin(async (c) => (await c.query('SELECT pid FROM pg_stat_activity WHERE datname = $1', [db])).rows.map((r) => r.pid));
}

async function createDatabase(tag) {
  const db = `smashsend_bench_${runId}_${tag}`;
  await withAdmin((c) => c.query(`CREATE DATABASE "${db}"`));
  pgDatabases.push(db);
  const u = new URL(PG_ADMIN_URL);
  u.pathname = `/${db}`;
  return { db, url: u.toString() };
}

/**
 * PostgreSQL + Redis, as the scale-out deployment runs: API processes with --no-worker plus
 * one `smashsend worker`. Each configuration gets a fresh database, so neither starts with
 * the other's backlog. The bare INSERT reference runs before the first configuration and
 * after it, next to a batch run with the worker stopped (ingest alone: what the reference
 * measures) and one with it running (what a deployment sees).
 */
async function postgresPhase({ cpuProfDir } = {}) {
  if (!(await redisReachable(REDIS_URL))) return { skipped: `Redis not reachable at ${REDIS_URL}` };
  let one;
  try {
    one = await createDatabase('one');
  } catch (err) {
    return { skipped: `cannot create a database on ${PG_ADMIN_URL}: ${err.message}` };
  }
  const out = {};
  const env = { REDIS_URL };
  const running = [];
  const stop = async (p) => {
    await p.child.stop();
    running.splice(running.indexOf(p), 1);
  };
  const start = async (what, db, opts) => {
    const p = what === 'worker' ? await startWorker(`postgres worker`, db.url, opts) : await startServer(what, db.url, { args: ['--no-worker'], env, ...opts });
    running.push(p);
    return p;
  };
  const ctxFor = (db, apis, worker) => ({
    servers: apis,
    procs: async () => ({ ...Object.fromEntries(apis.map((a, i) => [`api${i + 1}`, a.pid])), ...(worker ? { worker: worker.pid } : {}), postgres: await backendPids(db.db) }),
    memPids: [...apis.map((a) => a.pid), ...(worker ? [worker.pid] : [])],
  });
  const peaks = (procs) => Object.fromEntries(procs.map((p) => [p.name, round2(memoryOf(p.pid)?.hwm)]));

  /** Single events, then batches, with the worker running; then the backlog's drain rate. */
  const figures = async (tag, db, apis, worker, key) => {
    const ctx = ctxFor(db, apis, worker);
    const targets = apis.map((a) => a.url);
    const r = {};
    r.single = await measure(`postgres ${tag}`, loadOptions({ targets, key, kind: 'single', tag: `pg${apis.length}-s`, connections: SINGLE_CONNECTIONS }), ctx);
    r.drainAfterSingle = await drain(apis[0], 5, 'drain after single');
    r.batch = await measure(`postgres ${tag}`, loadOptions({ targets, key, kind: 'batch', tag: `pg${apis.length}-b`, connections: BATCH_CONNECTIONS }), ctx);
    r.drainAfterBatch = await drain(apis[0], QUICK ? 5 : 8, 'drain after batch');
    r.peakRssMiB = peaks([...apis, worker]);
    return r;
  };

  try {
    let api1;
    try {
      api1 = await start('postgres API 1', one, { cpuProfDir });
    } catch (err) {
      return { skipped: `the server does not start on PostgreSQL: ${err.message.split('\n').slice(0, 3).join(' ')}` };
    }
    // The table `events` exists now (api1 ran the migrations), so the reference can copy its shape.
    if (!cpuProfDir) out.bareBefore = await bareInsert(one, 'before');
    const worker1 = await start('worker', one, { cpuProfDir });
    out.oneApi = await figures('1 API + worker', one, [api1], worker1, api1.key);
    if (cpuProfDir) return out;
    await stop(worker1);
    out.oneApiIngestOnly = await measure(
      'postgres 1 API, worker stopped',
      loadOptions({ targets: [api1.url], key: api1.key, kind: 'batch', tag: 'pg1-bi', connections: BATCH_CONNECTIONS }),
      ctxFor(one, [api1], null),
    );
    await stop(api1);
    out.bareAfter = await bareInsert(one, 'after');

    const two = await createDatabase('two');
    const a1 = await start('postgres API 1', two);
    const a2 = await start('postgres API 2', two);
    const worker2 = await start('worker', two);
    out.twoApi = await figures('2 API + worker', two, [a1, a2], worker2, a1.key);
    return out;
  } finally {
    await Promise.all(running.map((p) => p.child.stop()));
  }
}

/** pg-bare-insert.mjs in its own process, with the CPU of it and of its PostgreSQL backends. */
async function bareInsert({ db, url: dbUrl }, when) {
  log(`postgres bare multi-row INSERT ${when} (200 rows per statement, ${BATCH_CONNECTIONS} connections): ${WARMUP_SEC}s warm-up + ${MEASURE_SEC}s`);
  let cpu;
  let cpuUse;
  const ref = await runChild(
    BARE,
    { databaseUrl: dbUrl, connections: BATCH_CONNECTIONS, warmupSec: WARMUP_SEC, durationSec: MEASURE_SEC, idPrefix: `${runId}.bare-${when}`, batchSize: BATCH_SIZE },
    {
      onStart: async (child) => {
        cpu = new CpuWindow({ bare: child.pid, postgres: await backendPids(db) });
      },
      onResult: () => {
        cpuUse = cpu?.end();
      },
    },
  );
  ref.cpu = cpuUse;
  if (cpuUse) ref.cpuUsPerRow = round2((((cpuUse.bare?.cores ?? 0) + (cpuUse.postgres?.cores ?? 0)) * 1e6) / ref.eventsPerSec);
  log(`  ${fmt(ref.eventsPerSec)} rows/s, p50 ${ref.latencyMs.p50} ms, p99 ${ref.latencyMs.p99} ms per statement`);
  if (cpuUse) log(`  CPU cores: inserting process ${cpuUse.bare?.cores}, postgres backends ${cpuUse.postgres?.cores} (+ ${cpuUse.postgres?.allThreadsWaitingForCpu} waiting); machine ${cpuUse.machineBusyCores}/${nproc()}; ${ref.cpuUsPerRow} µs per row`);
  return ref;
}

// ─── report ──────────────────────────────────────────────────────────────────────────────

/** Flat list of figures (what summarize-runs.mjs takes medians of). */

/**
 * Workflows: the trigger stage and webhook deliveries beside flat-out single events. The
 * same server and store measure single events first with no workflow, then with 10 active
 * ones (each matching about a third of the load's events by `where` on the plan trait, one
 * webhook each to a receiver in this process), so the ratio isolates the engine's cost.
 */
async function workflowsPhase() {
  const { createServer } = await import('node:http');
  let received = 0;
  let firstAt = 0;
  let lastAt = 0;
  const runIds = [];
  const receiver = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      received++;
      lastAt = performance.now();
      firstAt ||= lastAt;
      if (runIds.length < 2000 && received % 5 === 0) {
        try {
          runIds.push(JSON.parse(Buffer.concat(chunks).toString('utf8')).data.runId);
        } catch {}
      }
      res.writeHead(200).end('ok');
    });
  });
  await new Promise((r) => receiver.listen(0, '127.0.0.1', r));
  const hookUrl = `http://127.0.0.1:${receiver.address().port}/hook`;
  const dir = tempDir('workflows');
  const s = await startServer('workflows server', `sqlite:${join(dir, 'db.sqlite')}`, { env: { WEBHOOK_ALLOW_PRIVATE: 'true' } });
  const out = {};
  const api = async (path, body) => {
    const r = await fetch(`${s.url}${path}`, { method: body ? 'POST' : 'GET', headers: { authorization: `Bearer ${s.key}`, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
    return r.json();
  };
  try {
    const ctx = { servers: [s], procs: { server: s.pid }, memPids: [s.pid] };
    out.without = await measure('workflows: none', loadOptions({ targets: [s.url], key: s.key, kind: 'single', tag: 'wf-0', connections: SINGLE_CONNECTIONS }), ctx);
    out.drainWithout = await drain(s, 10, 'drain');
    const plans = ['free', 'pro', 'team']; // payloads.mjs's plans: each workflow matches a third of the events
    for (let i = 0; i < 10; i++) {
      await api('/v1/workflows', {
        name: `bench ${i}`,
        frequency: 'every',
        trigger: { event: 'purchase.completed', where: { property: 'contact.plan', op: 'eq', value: plans[i % 3] } },
        steps: [{ id: 'hook', type: 'webhook', url: `${hookUrl}?wf=${i}` }],
      });
    }
    received = 0;
    firstAt = 0;
    const t0 = performance.now();
    out.with = await measure('workflows: 10 active', loadOptions({ targets: [s.url], key: s.key, kind: 'single', tag: 'wf-10', connections: SINGLE_CONNECTIONS }), ctx);
    const loadSec = (performance.now() - t0) / 1000;
    const duringLoad = received;
    out.drainWith = await drain(s, QUICK ? 10 : 30, 'drain (events)');
    // Deliveries still queued: wait until none has arrived for 2 s (bounded).
    for (let idle = 0, last = -1; idle < 8 && performance.now() - t0 < (QUICK ? 30_000 : 120_000); ) {
      await sleep(250);
      idle = received === last ? idle + 1 : 0;
      last = received;
    }
    out.deliveries = { total: received, duringLoad, perSecDuringLoad: round2(duringLoad / loadSec), perSecOverall: firstAt && lastAt > firstAt ? round2(received / ((lastAt - firstAt) / 1000)) : null };
    const lags = [];
    for (const id of runIds.slice(0, 300)) {
      const run = (await api(`/v1/runs/${id}`)).run;
      const ev = run && (await api(`/v1/events/${encodeURIComponent(run.triggerMessageId)}`)).event;
      if (ev) lags.push(Date.parse(run.createdAt) - Date.parse(ev.receivedAt));
    }
    lags.sort((a, b) => a - b);
    const q = (p) => (lags.length ? lags[Math.min(lags.length - 1, Math.floor(p * lags.length))] : null);
    out.runStartLagMs = { samples: lags.length, p50: q(0.5), p99: q(0.99) };
    out.ingestRatio = round2(out.with.load.okPerSec / out.without.load.okPerSec);
    log(`  ingest with/without workflows: ${out.ingestRatio}; run-start lag p50/p99 ${out.runStartLagMs.p50}/${out.runStartLagMs.p99} ms; deliveries ${fmt(out.deliveries.total)} (${fmt(out.deliveries.perSecOverall)}/s)`);
  } finally {
    await s.child.stop();
    receiver.closeAllConnections();
    await new Promise((r) => receiver.close(r));
  }
  return out;
}

/**
 * The plan phase's tracking plan: 100 entries in warn mode, the bench's purchase.completed
 * among them with a schema its events pass (so the check runs in full on every event and
 * flags nothing), 89 other exact names and 10 patterns (never reached: an exact name wins).
 */
function benchTrackingPlan() {
  const events = [
    {
      name: 'purchase.completed',
      properties: {
        type: 'object',
        required: ['orderId', 'amount', 'currency'],
        properties: {
          orderId: { type: 'string', maxLength: 100 },
          amount: { type: 'number', minimum: 0 },
          currency: { type: 'string', enum: ['USD', 'EUR', 'GBP', 'JPY'] },
          items: { type: 'array', maxItems: 100, items: { type: 'string' } },
          coupon: { type: ['string', 'null'] },
          shipping: { type: 'object', properties: { method: { type: 'string' }, country: { type: 'string', minLength: 2, maxLength: 2 } } },
        },
      },
    },
  ];
  for (let i = 0; i < 89; i++) {
    events.push({ name: `bench_${i}.done`, properties: { type: 'object', required: ['id'], properties: { id: { type: 'string' }, n: { type: 'integer' } } } });
  }
  for (let i = 0; i < 10; i++) events.push({ pattern: `^area${i}_[a-z]+\\.[a-z_]+$` });
  return { mode: 'warn', allowUnplanned: true, events };
}

/**
 * Tracking plan cost (issue #17): single events flat out without a plan, with the 100-entry
 * plan above (warn mode, every event passing: the full check, nothing flagged), and without
 * again, on one SQLite server in one run. The plan's check is one Map lookup and one
 * precompiled Ajv function per event; the figure is ratio-with ÷ ratio-without (the target:
 * within 10%, i.e. ≥ 0.9). The without runs are averaged, so drift over the phase counts
 * against neither side.
 */
async function planPhase() {
  const dir = tempDir('plan');
  const s = await startServer('plan server', `sqlite:${join(dir, 'db.sqlite')}`);
  const out = {};
  const api = async (method, path, body) => {
    const r = await fetch(`${s.url}${path}`, { method, headers: { authorization: `Bearer ${s.key}`, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
    return { status: r.status, body: await r.json() };
  };
  try {
    const ctx = { servers: [s], procs: { server: s.pid }, memPids: [s.pid] };
    out.without = await measure('plan: none', loadOptions({ targets: [s.url], key: s.key, kind: 'single', tag: 'pl-0', connections: SINGLE_CONNECTIONS }), ctx);
    out.drainWithout = await drain(s, 10, 'drain');
    const put = await api('PUT', '/v1/tracking-plan', benchTrackingPlan());
    if (put.status !== 200) throw new Error(`plan phase: PUT /v1/tracking-plan answered ${put.status}: ${JSON.stringify(put.body)}`);
    // The load's events must pass the plan, or the phase measures flagging instead.
    const probe = JSON.parse(eventJson(`${runId}.pl-probe`, 1));
    const sent = await api('POST', '/v1/events', probe);
    const stored = await api('GET', `/v1/events/${encodeURIComponent(probe.messageId)}`);
    if (sent.status !== 200 || stored.body.event?.violations) throw new Error(`plan phase: the bench event does not pass the plan: ${JSON.stringify(stored.body)}`);
    out.entries = put.body.trackingPlan.events.length;
    out.with = await measure(`plan: ${out.entries} entries, warn`, loadOptions({ targets: [s.url], key: s.key, kind: 'single', tag: 'pl-100', connections: SINGLE_CONNECTIONS }), ctx);
    out.drainWith = await drain(s, 10, 'drain');
    await api('DELETE', '/v1/tracking-plan');
    out.withoutAgain = await measure('plan: none again', loadOptions({ targets: [s.url], key: s.key, kind: 'single', tag: 'pl-0b', connections: SINGLE_CONNECTIONS }), ctx);
    const metrics = await scrapeMetrics(s.url);
    out.flagged = metrics['smashsend_tracking_plan_violations_total'] ?? 0;
    const withoutRate = mean(out.without.load.okPerSec, out.withoutAgain.load.okPerSec);
    out.ingestRatio = round2(out.with.load.okPerSec / withoutRate);
    log(`  ingest with/without a ${out.entries}-entry plan: ${out.ingestRatio} (${fmt(out.with.load.okPerSec)} vs ${fmt(withoutRate)} req/s); flagged ${fmt(out.flagged)}`);
  } finally {
    await s.child.stop();
  }
  return out;
}

/**
 * The dashboard's live view beside ingest (issue #13: "keeps up at the benchmark's single-event
 * rate without slowing ingest"): single events flat out with no viewer, then with
 * LIVE_VIEWERS signed-in browsers' Server-Sent Events streams of the same workspace open (each
 * read as fast as it comes, as a browser tab would), then with none again, on one SQLite
 * server. The figure is ingest with viewers ÷ ingest without (the mean of the two without
 * runs), with what the viewers were sent: events shown and events summarised as "not shown".
 */
const LIVE_VIEWERS = 3;

async function livePhase() {
  const dir = tempDir('live');
  const databaseUrl = `sqlite:${join(dir, 'db.sqlite')}`;
  const s = await startServer('live server', databaseUrl);
  const out = { viewers: LIVE_VIEWERS };
  const streams = [];
  try {
    const email = 'bench-viewer@example.com';
    const password = 'bench viewer password';
    const made = spawnSync(process.execPath, [join(ROOT, 'bin', 'smashsend.js'), 'users', 'create', '--email', email, '--password-stdin'], { env: serverEnv(databaseUrl), cwd: ROOT, input: `${password}\n`, encoding: 'utf8' });
    if (made.status !== 0) throw new Error(`live phase: users create failed: ${made.stderr}`);
    const signIn = await fetch(`${s.url}/dashboard/api/sign-in`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email, password }) });
    if (signIn.status !== 200) throw new Error(`live phase: sign-in answered ${signIn.status}`);
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0];
    const ctx = { servers: [s], procs: { server: s.pid }, memPids: [s.pid] };
    out.without = await measure('live: no viewer', loadOptions({ targets: [s.url], key: s.key, kind: 'single', tag: 'lv-0', connections: SINGLE_CONNECTIONS }), ctx);
    await drain(s, 10, 'drain');
    const seen = { events: 0, notShown: 0, bytes: 0 };
    for (let i = 0; i < LIVE_VIEWERS; i++) {
      const ac = new AbortController();
      const r = await fetch(`${s.url}/dashboard/api/live`, { headers: { cookie, accept: 'text/event-stream' }, signal: ac.signal });
      if (r.status !== 200) throw new Error(`live phase: /dashboard/api/live answered ${r.status}`);
      const reader = r.body.getReader();
      const decoder = new TextDecoder();
      let tail = '';
      const pump = (async () => {
        for (;;) {
          const { done, value } = await reader.read().catch(() => ({ done: true }));
          if (done) return;
          seen.bytes += value.length;
          tail += decoder.decode(value, { stream: true });
          const frames = tail.split('\n\n');
          tail = frames.pop();
          for (const f of frames) {
            const lines = f.split('\n');
            const kind = lines.find((l) => l.startsWith('event: '))?.slice(7);
            const data = lines.find((l) => l.startsWith('data: '));
            // Counted over all viewers: every item sent, and the "N events not shown" summaries.
            if (kind === 'item') seen.events++;
            else if (kind === 'dropped' && data) seen.notShown += JSON.parse(data.slice(6)).count;
          }
        }
      })();
      streams.push({ ac, pump });
    }
    out.with = await measure(`live: ${LIVE_VIEWERS} viewers`, loadOptions({ targets: [s.url], key: s.key, kind: 'single', tag: 'lv-3', connections: SINGLE_CONNECTIONS }), ctx);
    await drain(s, 10, 'drain');
    out.seen = { ...seen };
    for (const st of streams.splice(0)) st.ac.abort();
    out.withoutAgain = await measure('live: no viewer again', loadOptions({ targets: [s.url], key: s.key, kind: 'single', tag: 'lv-0b', connections: SINGLE_CONNECTIONS }), ctx);
    const withoutRate = mean(out.without.load.okPerSec, out.withoutAgain.load.okPerSec);
    out.ingestRatio = round2(out.with.load.okPerSec / withoutRate);
    log(`  ingest with/without ${LIVE_VIEWERS} live viewers: ${out.ingestRatio} (${fmt(out.with.load.okPerSec)} vs ${fmt(withoutRate)} req/s); viewers were sent ${fmt(seen.events)} events and ${fmt(seen.notShown)} "not shown"`);
  } finally {
    for (const st of streams) st.ac.abort();
    await s.child.stop();
  }
  return out;
}

function figures(res) {
  const f = [];
  const add = (id, label, value, unit, extra = {}) => f.push({ id, label, value: value === undefined ? null : value, unit, ...extra });
  const cb = res.ceiling.before;
  const ca = res.ceiling.after;
  const ceilSingle = mean(cb?.single.load.okPerSec, ca?.single.load.okPerSec);
  const ceilBatch = mean(cb?.batch.load.eventsPerSec, ca?.batch.load.eventsPerSec);
  if (cb) {
    add('ceiling.single', 'Ceiling: single events (mean of before/after)', ceilSingle, 'req/s', { detail: `before ${fmt(cb.single.load.okPerSec)}, after ${fmt(ca?.single.load.okPerSec)}; p50/p99 ${cb.single.load.latencyMs.p50}/${cb.single.load.latencyMs.p99} ms` });
    add('ceiling.batch', 'Ceiling: 200-event batches (mean of before/after)', ceilBatch, 'events/s', { detail: `before ${fmt(cb.batch.load.eventsPerSec)}, after ${fmt(ca?.batch.load.eventsPerSec)}` });
  }
  const sg = res.segment;
  if (sg) {
    for (const size of [15, 100]) {
      const l = sg[`segment${size}`]?.load;
      if (!l) continue;
      add(`segment.batch${size}`, `Segment /v1/batch (analytics-node bodies of ${size}), SQLite, 10 connections`, l.eventsPerSec, 'events/s', {
        ratio: l.eventsPerSec / ceilBatch,
        detail: `p50 ${l.latencyMs.p50} ms, p99 ${l.latencyMs.p99} ms per request; CPU ${fmt(sg[`segment${size}`].cpuUsPerEvent?.total, 1)} µs/event`,
      });
    }
    const o = sg.ours?.load;
    if (o) {
      add('segment.ours', 'Same server: our /v1/events/batch of 200, 10 connections', o.eventsPerSec, 'events/s', {
        ratio: o.eventsPerSec / ceilBatch,
        detail: `p50 ${o.latencyMs.p50} ms, p99 ${o.latencyMs.p99} ms per request; CPU ${fmt(sg.ours.cpuUsPerEvent?.total, 1)} µs/event`,
      });
    }
  }
  const wf = res.workflows;
  if (wf?.with) {
    add('workflows.ingest', 'Workflows: single-event ingest with 10 active workflows, % of without', round2(wf.ingestRatio * 100), '%', { detail: `${fmt(wf.with.load.okPerSec)} vs ${fmt(wf.without.load.okPerSec)} req/s` });
    add('workflows.lag', 'Workflows: run-start lag p99 (event receipt → run created)', wf.runStartLagMs.p99, 'ms', { detail: `p50 ${wf.runStartLagMs.p50} ms over ${wf.runStartLagMs.samples} runs` });
    add('workflows.deliveries', 'Workflows: webhook deliveries per second', wf.deliveries.perSecOverall, 'deliveries/s', { detail: `${fmt(wf.deliveries.total)} delivered, ${fmt(wf.deliveries.perSecDuringLoad)}/s during the load` });
  }
  const pl = res.plan;
  if (pl?.with) {
    const without = mean(pl.without.load.okPerSec, pl.withoutAgain.load.okPerSec);
    add('plan.ingest', `Tracking plan: single-event ingest ratio with a ${pl.entries}-entry plan (warn, passing) ÷ ratio without`, pl.ingestRatio, '×', {
      target: '≥ 0.9',
      pass: pl.ingestRatio >= 0.9,
      detail: `with ${fmt(pl.with.load.okPerSec)} req/s (ratio ${fmt(pl.with.load.okPerSec / ceilSingle, 2)}), without ${fmt(without)} req/s (ratio ${fmt(without / ceilSingle, 2)}); p99 ${pl.with.load.latencyMs.p99} vs ${pl.without.load.latencyMs.p99} ms; CPU ${fmt(pl.with.cpuUsPerEvent?.total, 1)} vs ${fmt(pl.without.cpuUsPerEvent?.total, 1)} µs/event`,
    });
  }
  const lv = res.live;
  if (lv?.with) {
    const without = mean(lv.without.load.okPerSec, lv.withoutAgain.load.okPerSec);
    add('live.ingest', `Live view: single-event ingest with ${lv.viewers} dashboard live views open ÷ without`, lv.ingestRatio, '×', {
      detail: `with ${fmt(lv.with.load.okPerSec)} req/s, without ${fmt(without)} req/s; p99 ${lv.with.load.latencyMs.p99} vs ${lv.without.load.latencyMs.p99} ms; the views were sent ${fmt(lv.seen.events)} events and told of ${fmt(lv.seen.notShown)} not shown`,
    });
  }
  const sq = res.sqlite;
  if (sq?.single) {
    const l = sq.single.load;
    add('sqlite.single', 'SQLite: single events, 50 connections', l.okPerSec, 'req/s', {
      ratio: l.okPerSec / ceilSingle,
      target: `≥ ${TARGETS.singleRatio} and p99 < ${TARGETS.singleP99Ms} ms`,
      pass: l.okPerSec / ceilSingle >= TARGETS.singleRatio && l.latencyMs.p99 < TARGETS.singleP99Ms,
      detail: `p50 ${l.latencyMs.p50} ms, p99 ${l.latencyMs.p99} ms`,
    });
    const cpuRatio = (ours, ceil) => (ours?.cpuUsPerEvent?.total && ceil ? ceil / ours.cpuUsPerEvent.total : undefined);
    const ceilSingleUs = mean(cb?.single.cpuUsPerEvent?.total, ca?.single.cpuUsPerEvent?.total);
    const ceilBatchUs = mean(cb?.batch.cpuUsPerEvent?.total, ca?.batch.cpuUsPerEvent?.total);
    add('sqlite.single.cpu', 'SQLite: single events, server CPU per event', sq.single.cpuUsPerEvent?.total, 'µs', {
      ratio: cpuRatio(sq.single, ceilSingleUs),
      detail: `ceiling ${fmt(ceilSingleUs, 1)} µs; ratio = ceiling ÷ ours: the cost ratio, which moves little when other work shares the machine`,
    });
    add('sqlite.single.p50', 'SQLite: single events p50', l.latencyMs.p50, 'ms');
    add('sqlite.single.p99', 'SQLite: single events p99', l.latencyMs.p99, 'ms', { target: `< ${TARGETS.singleP99Ms} ms`, pass: l.latencyMs.p99 < TARGETS.singleP99Ms });
    const fs = sq.fdatasyncMs;
    if (fs) add('disk.fdatasync.p99', 'Disk: bare fdatasync of 16 KB p99 (the floor under the single-event p99)', fs.p99, 'ms', { detail: `p50 ${fs.p50} ms over ${fs.samples} syncs, same directory, server idle` });
    const b = sq.batch.load;
    add('sqlite.batch', 'SQLite: 200-event batches, 10 connections', b.eventsPerSec, 'events/s', {
      ratio: b.eventsPerSec / ceilBatch,
      target: `≥ ${TARGETS.batchRatio}`,
      pass: b.eventsPerSec / ceilBatch >= TARGETS.batchRatio,
      detail: `p50 ${b.latencyMs.p50} ms, p99 ${b.latencyMs.p99} ms per request`,
    });
    add('sqlite.batch.cpu', 'SQLite: batches, server CPU per event', sq.batch.cpuUsPerEvent?.total, 'µs', {
      ratio: cpuRatio(sq.batch, ceilBatchUs),
      detail: `ceiling ${fmt(ceilBatchUs, 2)} µs; ratio = ceiling ÷ ours`,
    });
    add('sqlite.batch.p50', 'SQLite: batch p50 per request', b.latencyMs.p50, 'ms');
    add('sqlite.batch.p99', 'SQLite: batch p99 per request', b.latencyMs.p99, 'ms');
    add('sqlite.processing.drain', 'SQLite: processing, queued → processed (backlog drain, ingest idle)', sq.drainAfterBatch?.eventsPerSec, 'events/s', {
      detail: `${fmt(sq.drainAfterBatch?.startDepth)} queued after the batch run, ${sq.drainAfterBatch?.drained ? 'drained' : `${fmt(sq.drainAfterBatch?.endDepth)} left`} after ${sq.drainAfterBatch?.seconds} s`,
    });
    add('sqlite.processing.duringBatch', 'SQLite: processing while batches run flat out', sq.batch.server?.processedPerSec, 'events/s', {
      detail: `stored ${fmt(sq.batch.server?.acceptedPerSec)}/s; queue lag max ${round2(sq.batch.server?.maxLagSec)} s, depth max ${fmt(sq.batch.server?.maxDepth)}`,
    });
    add('sqlite.lag.single', 'SQLite: queue lag, single events flat out (max)', sq.single.server?.maxLagSec, 's', {
      detail: `processed ${fmt(sq.single.server?.processedPerSec)}/s of ${fmt(sq.single.server?.acceptedPerSec)}/s stored; depth max ${fmt(sq.single.server?.maxDepth)}`,
    });
    add('sqlite.lag.batch', 'SQLite: queue lag, batches flat out (max)', sq.batch.server?.maxLagSec, 's');
    if (sq.atTargetRate) {
      const t = sq.atTargetRate;
      const keepsUp = t.server.processedPerSec >= 0.95 * t.server.acceptedPerSec && t.server.maxLagSec <= 2;
      const reached = t.load.okPerSec >= 0.9 * t.requestedRate;
      add('sqlite.lag.target', 'SQLite: queue lag, single events at the target rate (0.35 × ceiling), max', t.server.maxLagSec, 's', {
        target: 'the target rate is reached, processing keeps up, lag ≤ 2 s',
        pass: keepsUp && reached,
        detail:
          `target rate ${fmt(t.requestedRate)} req/s; ` +
          (reached ? '' : `the server cannot reach it: this ran flat out at ${fmt(t.load.okPerSec)} req/s, where processing ${keepsUp ? 'keeps up' : 'falls behind'}; `) +
          `stored ${fmt(t.server.acceptedPerSec)}/s, processed ${fmt(t.server.processedPerSec)}/s, depth at end ${fmt(t.server.depthEnd)}; p99 ${t.load.latencyMs.p99} ms`,
      });
    }
    add('sqlite.peakRss', 'SQLite: peak RSS of the server under load (VmHWM)', sq.peakRssMiB, 'MiB');
  }
  const m = res.million;
  if (m?.afterAll) {
    add('million.rss100k', `RSS idle after ${fmt(m.afterFirst.stored)} stored events (--no-worker)`, m.afterFirst.rss, 'MiB', {
      detail: `anon ${fmt(m.afterFirst.anon)} MiB, main-thread heap ${fmt(m.afterFirst.mainHeapUsedMiB)} MiB; database ${fmt(m.afterFirst.dbMiB)} MiB`,
    });
    add('million.rss1m', `RSS idle after ${fmt(m.afterAll.stored)} stored events (--no-worker)`, m.afterAll.rss, 'MiB', {
      ratio: m.rssGrowth,
      target: 'does not grow with stored volume (≤ 1.25×)',
      pass: m.rssGrowth <= 1.25,
      detail: `anon ${fmt(m.afterAll.anon)} MiB, main-thread heap ${fmt(m.afterAll.mainHeapUsedMiB)} MiB; database ${fmt(m.afterAll.dbMiB)} MiB; peak during ingest ${fmt(m.peakRssMiB)} MiB`,
    });
    if (m.singleIngestOnly) {
      const l = m.singleIngestOnly.load;
      add('sqlite.single.ingestOnly', `SQLite: single events, ingest only (--no-worker, ${fmt(m.afterAll.stored)} stored)`, l.okPerSec, 'req/s', {
        ratio: l.okPerSec / ceilSingle,
        detail: `p50 ${l.latencyMs.p50} ms, p99 ${l.latencyMs.p99} ms; server CPU ${fmt(m.singleIngestOnly.cpuUsPerEvent?.total, 1)} µs per event (diagnostic: no processing on the writer thread)`,
      });
    }
    add('million.ingest', `SQLite batch ingest, last 10 s up to ${fmt(m.afterAll.stored)} stored (first 10 s in notes)`, m.restRates.last10s, 'events/s', {
      detail: `${fmt(m.restRates.first10s)} → ${fmt(m.restRates.last10s)} events/s (database ${fmt(m.afterFirst.dbMiB)} → ${fmt(m.afterAll.dbMiB)} MiB)`,
    });
  }
  const bp = res.backpressure;
  if (bp?.load) {
    const mem = Object.values(bp.memory)[0];
    add('backpressure.share503', `Backpressure: 503 share (append +${SLOW_APPEND_MS} ms, MAX_PENDING_EVENTS=${SLOW_MAX_PENDING})`, bp.share503 * 100, '%', {
      target: '503 + Retry-After, memory bounded',
      pass: bp.share503 > 0 && bp.during?.retryAfter != null && mem.max < 1.5 * Math.max(mem.first, 1),
      detail: `Retry-After: ${bp.during?.retryAfter ?? 'n/a'}; accepted ${fmt(bp.load.eventsPerSec)} events/s; RSS ${fmt(mem.first)} → max ${fmt(mem.max)} → ${fmt(mem.last)} MiB`,
    });
    add('backpressure.maxRss', 'Backpressure: max RSS during the overload', mem.max, 'MiB');
    const a = bp.attack;
    if (a) {
      add('backpressure.attackRss', `Memory attack: peak RSS (${a.concurrent} × 6.4 MB batches + ${a.stalled} stalled bodies)`, a.hwmMiB, 'MiB', {
        target: `< ${a.boundMiB} MiB, 503 + Retry-After`,
        pass: a.hwmMiB < a.boundMiB && (a.statuses[503] ?? 0) > 0,
        detail: `statuses ${JSON.stringify(a.statuses)}; stalled bodies answered ${JSON.stringify(a.stalledStatuses)}; full batches p50 ${a.okLatencyMs.p50} ms, p99 ${a.okLatencyMs.p99} ms; idle RSS ${fmt(a.idleRssMiB)} MiB`,
      });
    }
  }
  const rd = res.reads;
  if (rd?.alone) {
    const seeded = `${fmt(READS_SEED_BATCHES * BATCH_SIZE)} events in the read workspace, ${fmt(rd.depthAtReads)} of them queued`;
    add('reads.alone', 'SQLite: single events, no reads (reads phase)', rd.alone.load.okPerSec, 'req/s', { detail: `p99 ${rd.alone.load.latencyMs.p99} ms` });
    for (const [k, what] of [['paced', `${READS_PACED_PER_SEC} reads/s`], ['flat', `reads flat out (${READS_CONNECTIONS} connections)`]]) {
      const r = rd[k];
      add(`reads.${k}`, `SQLite: single events beside ${what} of another workspace`, r.load.okPerSec, 'req/s', {
        ratio: r.ratio,
        detail: `÷ ingest alone; p99 ${r.load.latencyMs.p99} ms; reads ${fmt(r.during.okPerSec, 1)}/s, p50 ${r.during.latencyMs.p50} ms, p99 ${r.during.latencyMs.p99} ms; ${seeded}`,
      });
    }
  }
  const p = res.postgres;
  if (p?.skipped) add('postgres', 'PostgreSQL', null, '', { detail: `skipped: ${p.skipped}` });
  for (const [k, tag] of [['oneApi', '1 API'], ['twoApi', '2 API']]) {
    const r = p?.[k];
    if (!r) continue;
    const s = r.single.load;
    const b = r.batch.load;
    add(`pg.${k}.single`, `PostgreSQL ${tag} + 1 worker: single events`, s.okPerSec, 'req/s', { ratio: s.okPerSec / ceilSingle, detail: `p50 ${s.latencyMs.p50} ms, p99 ${s.latencyMs.p99} ms` });
    add(`pg.${k}.single.p99`, `PostgreSQL ${tag}: single p99`, s.latencyMs.p99, 'ms');
    add(`pg.${k}.single.cpu`, `PostgreSQL ${tag}: single events, CPU per event (API + worker + PostgreSQL)`, r.single.cpuUsPerEvent?.total, 'µs', {
      detail: Object.entries(r.single.cpuUsPerEvent ?? {}).filter(([n]) => n !== 'total').map(([n, v]) => `${n} ${fmt(v, 1)}`).join(', '),
    });
    add(`pg.${k}.batch`, `PostgreSQL ${tag} + 1 worker: 200-event batches`, b.eventsPerSec, 'events/s', { ratio: b.eventsPerSec / ceilBatch, detail: `p50 ${b.latencyMs.p50} ms, p99 ${b.latencyMs.p99} ms per request` });
    add(`pg.${k}.processing`, `PostgreSQL ${tag}: processing (backlog drain)`, r.drainAfterBatch?.eventsPerSec, 'events/s', {
      detail: `during batches ${fmt(r.batch.server?.processedPerSec)}/s, lag max ${round2(r.batch.server?.maxLagSec)} s; during single events lag max ${round2(r.single.server?.maxLagSec)} s`,
    });
    add(`pg.${k}.peakRss`, `PostgreSQL ${tag}: peak RSS per process`, Math.max(...Object.values(r.peakRssMiB)), 'MiB', { detail: Object.entries(r.peakRssMiB).map(([n, v]) => `${n} ${fmt(v)}`).join(', ') });
  }
  if (p?.oneApi && p?.twoApi) {
    add('pg.scale.single', 'PostgreSQL: single events, 2 API ÷ 1 API', p.twoApi.single.load.okPerSec / p.oneApi.single.load.okPerSec, '×');
    add('pg.scale.batch', 'PostgreSQL: batches, 2 API ÷ 1 API', p.twoApi.batch.load.eventsPerSec / p.oneApi.batch.load.eventsPerSec, '×');
  }
  if (p?.bareBefore && p?.oneApi) {
    const bare = mean(p.bareBefore.eventsPerSec, p.bareAfter?.eventsPerSec);
    add('pg.bare', 'PostgreSQL: bare multi-row INSERT, same rows, same table shape (mean of before/after)', bare, 'rows/s', {
      detail: `before ${fmt(p.bareBefore.eventsPerSec)}, after ${fmt(p.bareAfter?.eventsPerSec)}; p50 ${p.bareBefore.latencyMs.p50} ms per 200-row statement`,
    });
    const bareUs = mean(p.bareBefore.cpuUsPerRow, p.bareAfter?.cpuUsPerRow);
    if (p.oneApiIngestOnly?.cpuUsPerEvent) {
      const c = p.oneApiIngestOnly.cpuUsPerEvent;
      add('pg.batch.ingestOnly.cpu', 'PostgreSQL batches, worker stopped: CPU per event (API + PostgreSQL)', c.total, 'µs', {
        ratio: bareUs / c.total,
        detail: `api ${fmt(c.api1, 1)} + postgres ${fmt(c.postgres, 1)} µs; bare INSERT ${fmt(bareUs, 1)} µs per row (inserting process + postgres); ratio = bare ÷ ours`,
      });
    }
    if (p.oneApiIngestOnly) {
      const ratio = p.oneApiIngestOnly.load.eventsPerSec / bare;
      add('pg.batch.ingestOnly', 'PostgreSQL 1 API, worker stopped: 200-event batches', p.oneApiIngestOnly.load.eventsPerSec, 'events/s', {
        ratio,
        target: `≥ ${TARGETS.pgBareRatio} of the bare INSERT`,
        pass: ratio >= TARGETS.pgBareRatio,
        detail: `p50 ${p.oneApiIngestOnly.load.latencyMs.p50} ms, p99 ${p.oneApiIngestOnly.load.latencyMs.p99} ms per request; ratio is to the bare INSERT`,
      });
    }
    const withWorker = p.oneApi.batch.load.eventsPerSec / bare;
    add('pg.batch.vsBare', 'PostgreSQL 1 API + worker: batches ÷ bare INSERT', withWorker, '×', {
      ratio: withWorker,
      detail: `2 API + worker: ${p.twoApi ? round2(p.twoApi.batch.load.eventsPerSec / bare) : 'n/a'}`,
    });
  }
  return f;
}

// ─── main ────────────────────────────────────────────────────────────────────────────────

async function cleanup() {
  await stopAll();
  for (const db of pgDatabases.splice(0)) await dropDatabase(db).catch((err) => console.error(`could not drop database ${db}: ${err.message}`));
  for (const d of tempDirs.splice(0)) rmSync(d, { recursive: true, force: true });
}

// If the bench dies anyway, the launcher kills the children (an exit hook); their data goes too.
process.on('exit', () => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});

for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    console.error(`\n${sig}: stopping servers, removing temporary data`);
    cleanup().finally(() => process.exit(130));
  });
}

async function profileRun() {
  const dir = join(HERE, 'results', `profile-${startedAt.toISOString().replace(/[:.]/g, '-')}`);
  mkdirSync(join(dir, 'sqlite'), { recursive: true });
  mkdirSync(join(dir, 'postgres'), { recursive: true });
  log(`CPU profiles in ${dir}`);
  await sqlitePhase(null, { cpuProfDir: join(dir, 'sqlite') });
  const pgRes = await postgresPhase({ cpuProfDir: join(dir, 'postgres') });
  if (pgRes.skipped) log(`postgres: skipped: ${pgRes.skipped}`);
  for (const sub of ['sqlite', 'postgres']) {
    const d = join(dir, sub);
    const files = readdirSync(d).filter((f) => f.endsWith('.cpuprofile'));
    const sums = files.map((f) => summarize(join(d, f))).filter((s) => s.busyMs > 200).sort((a, b) => b.busyMs - a.busyMs);
    console.log(`\n## ${sub}: top self time per thread (busy > 200 ms)\n`);
    for (const s of sums) console.log(`${formatSummary(s, 15)}\n`);
  }
}

async function main() {
  const res = { runId, machine: machineInfo(), settings: { WARMUP_SEC, MEASURE_SEC, SINGLE_CONNECTIONS, BATCH_CONNECTIONS, BATCH_SIZE, QUICK, only: opts.only ?? null }, ceiling: {} };
  log(`smashsend bench ${runId}: ${res.machine.nproc} × ${res.machine.cpuModel}, ${fmt(res.machine.memTotalMiB)} MiB, node ${res.machine.node}, load average ${res.machine.loadAvgAtStart}`);
  try {
    if (opts.profile) {
      await profileRun();
      return;
    }
    res.ceiling.before = await ceilingPhase('before');
    if (wants('sqlite')) res.sqlite = await sqlitePhase(res.ceiling.before);
    if (wants('million')) res.million = await millionPhase();
    if (wants('backpressure')) res.backpressure = await backpressurePhase();
    if (wants('segment')) res.segment = await segmentPhase();
    if (wants('reads')) res.reads = await readsPhase();
    if (wants('postgres')) {
      try {
        res.postgres = await postgresPhase();
      } catch (err) {
        res.postgres = { skipped: err.message.split('\n')[0] };
      }
      if (res.postgres.skipped) log(`postgres: skipped: ${res.postgres.skipped}`);
    }
    if (wants('workflows')) res.workflows = await workflowsPhase();
    if (wants('segments')) res.segments = await segmentsPhase();
    if (wants('plan')) res.plan = await planPhase();
    if (wants('live')) res.live = await livePhase();
    res.ceiling.after = await ceilingPhase('after');
    res.figures = figures(res);
    res.elapsedSec = round2((performance.now() - t0) / 1000);
    const outDir = join(HERE, 'results');
    mkdirSync(outDir, { recursive: true });
    const file = join(outDir, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
    writeFileSync(file, JSON.stringify(res, null, 2));
    console.log(`\n${table(res.figures)}\n`);
    console.log(`machine: ${res.machine.nproc} × ${res.machine.cpuModel}, ${fmt(res.machine.memTotalMiB)} MiB, node ${res.machine.node}, ${res.machine.date}; code ${res.machine.git}`);
    console.log(`results: ${file}  (${res.elapsedSec} s)`);
  } finally {
    await cleanup();
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack : err);
  process.exitCode = 1;
});
