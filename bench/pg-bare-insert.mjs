/**
 * The PostgreSQL reference for batches: the same rows the server stores for 200-event
 * batches, written by bare multi-row INSERTs (one prepared statement of 200 VALUES rows,
 * 1,600 parameters) into a table of the same shape as `events` (same columns, defaults,
 * identity and indexes: CREATE TABLE … (LIKE events INCLUDING ALL)), from `connections`
 * concurrent connections, each a commit per statement with the server's
 * synchronous_commit. No HTTP, no validation, no dedup ledger: the least any batch
 * endpoint storing these rows durably has to do. Run by run-bench.mjs in its own process.
 *
 * Config (JSON in argv[2]): databaseUrl, connections, warmupSec, durationSec, idPrefix,
 * batchSize. Messages: {type:'ready'}, {type:'start'}, {type:'result', eventsPerSec, …}.
 */
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { eventRow } from './payloads.mjs';

const cfg = JSON.parse(process.argv[2]);
const send = (m) => new Promise((resolve) => (process.send ? process.send(m, () => resolve()) : process.stdout.write(`${JSON.stringify(m)}\n`, () => resolve())));
const TABLE = 'bench_bare_events';
const COLS = ['workspace_id', 'message_id', 'event', 'email', 'properties', 'traits', 'ts', 'received_at'];
const size = cfg.batchSize ?? 200;

const values = [];
for (let r = 0; r < size; r++) values.push(`(${COLS.map((_, c) => `$${r * COLS.length + c + 1}`).join(', ')})`);
const SQL = `INSERT INTO ${TABLE} (${COLS.join(', ')}) VALUES ${values.join(', ')}`;

const pool = new pg.Pool({ connectionString: cfg.databaseUrl, max: cfg.connections });
let latencies = [];
let statements = 0;
let nextBatch = 0;

function buildParams(b) {
  const now = Date.now();
  const out = [];
  for (let k = 0; k < size; k++) out.push(...eventRow('ws_bench_bare', cfg.idPrefix, b * size + k, now));
  return out;
}
// Prebuilt before the timed run (1,500 statements = 300,000 rows), so this process spends its
// CPU on the driver, not on building rows; past the pool, rows are built on the fly.
const prebuilt = Array.from({ length: cfg.poolStatements ?? 1500 }, (_, b) => buildParams(b));
const params = () => {
  const b = nextBatch++;
  return b < prebuilt.length ? prebuilt[b] : buildParams(b);
};

async function loop(client, until) {
  while (performance.now() < until) {
    const p = params();
    const t = performance.now();
    await client.query({ name: 'bare_insert', text: SQL, values: p });
    latencies.push(performance.now() - t);
    statements++;
  }
}

async function run(seconds) {
  const clients = await Promise.all(Array.from({ length: cfg.connections }, () => pool.connect()));
  try {
    const until = performance.now() + seconds * 1000;
    await Promise.all(clients.map((c) => loop(c, until)));
  } finally {
    for (const c of clients) c.release();
  }
}

try {
  await pool.query(`DROP TABLE IF EXISTS ${TABLE}`);
  await pool.query(`CREATE TABLE ${TABLE} (LIKE events INCLUDING ALL)`);
  await send({ type: 'ready' });
  if (cfg.warmupSec > 0) await run(cfg.warmupSec);
  latencies = [];
  statements = 0;
  await send({ type: 'start' });
  const t0 = performance.now();
  await run(cfg.durationSec);
  const sec = (performance.now() - t0) / 1000;
  const a = Float64Array.from(latencies).sort();
  const at = (q) => Math.round(a[Math.min(a.length - 1, Math.floor(q * a.length))] * 100) / 100;
  await send({ type: 'result', elapsedSec: sec, statements, eventsPerSec: (statements * size) / sec, latencyMs: { p50: at(0.5), p99: at(0.99) } });
  await pool.query(`DROP TABLE IF EXISTS ${TABLE}`);
} catch (err) {
  await send({ type: 'error', message: err instanceof Error ? err.stack : String(err) });
  process.exitCode = 1;
} finally {
  await pool.end().catch(() => {});
}
process.exit();
