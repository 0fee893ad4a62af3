/**
 * The load generator, run by run-bench.mjs as its own process (with an IPC channel, as child_process.fork) so that
 * its CPU is not the server's: autocannon against one or more targets, every request
 * carrying the next prebuilt body (a new messageId each time).
 *
 * Config (JSON in argv[2]):
 *   targets       base URLs; connections are split between them (2 API processes: 2 URLs)
 *   path          /v1/events, /v1/events/batch or /v1/batch
 *   key           API key (Bearer; Basic and `writeKey` in the body for 'segment')
 *   kind          'single' | 'batch' | 'segment' (a /v1/batch body as analytics-node builds it)
 *   batchSize     events per batch body (default 200)
 *   connections   total connections
 *   warmupSec     warm-up, not measured (0: none)
 *   durationSec   measured run, or
 *   amount        a fixed number of requests instead (no warm-up)
 *   overallRate   optional requests/s cap over all connections
 *   idPrefix      messageId prefix, unique per phase
 *   poolSize      bodies built before the timed run
 *   unique        false for the ceiling: cycle the pool instead of building new bodies
 *
 * Messages to the parent: {type:'ready', buildMs}, {type:'start'} when the measured run
 * begins, {type:'result', ...} at the end.
 */
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { BodyPool } from './payloads.mjs';

const cfg = JSON.parse(process.argv[2]);
const send = (m) =>
  new Promise((resolve) => (process.send ? process.send(m, () => resolve()) : process.stdout.write(`${JSON.stringify(m)}\n`, () => resolve())));

const t0 = performance.now();
const pool = new BodyPool({
  kind: cfg.kind,
  idPrefix: cfg.idPrefix,
  size: cfg.poolSize,
  unique: cfg.unique !== false,
  batchSize: cfg.batchSize ?? 200,
  writeKey: cfg.key ?? 'ceiling',
});
await send({ type: 'ready', buildMs: Math.round(performance.now() - t0), poolBytes: pool.buf.length });

let next = 0;
const headers = {
  'content-type': 'application/json',
  // analytics-node's publisher: Basic with the write key as user name, and the key in the body too.
  authorization: cfg.kind === 'segment' ? `Basic ${Buffer.from(`${cfg.key ?? 'ceiling'}:`).toString('base64')}` : `Bearer ${cfg.key ?? 'ceiling'}`,
};

function split(total, parts, i) {
  return Math.floor(total / parts) + (i < total % parts ? 1 : 0);
}

/** One autocannon run per target, in parallel; latencies of 2xx responses kept with sub-ms precision. */
async function run({ durationSec, amount }) {
  const latencies = [];
  const status = {};
  let errors = 0;
  let timeouts = 0;
  const n = cfg.targets.length;
  const started = performance.now();
  const runs = cfg.targets.map((url, i) => {
    const opts = {
      url,
      connections: split(cfg.connections, n, i),
      pipelining: 1,
      timeout: 20,
      requests: [
        {
          method: 'POST',
          path: cfg.path,
          headers,
          setupRequest: (req) => {
            req.body = pool.body(next++);
            return req;
          },
        },
      ],
    };
    if (amount) opts.amount = split(amount, n, i);
    else opts.duration = durationSec;
    if (cfg.overallRate) opts.overallRate = Math.max(1, Math.round(split(cfg.overallRate, n, i)));
    return new Promise((resolve, reject) => {
      const inst = autocannon(opts, (err, res) => (err ? reject(err) : resolve(res)));
      inst.on('response', (_client, code, _bytes, ms) => {
        status[code] = (status[code] ?? 0) + 1;
        if (code >= 200 && code < 300) latencies.push(ms);
      });
      inst.on('reqError', () => errors++);
    });
  });
  const results = await Promise.all(runs);
  const elapsedSec = (performance.now() - started) / 1000;
  for (const r of results) timeouts += r.timeouts;
  return { elapsedSec, status, errors, timeouts, latencies };
}

function percentiles(values) {
  if (values.length === 0) return { p50: null, p90: null, p99: null, max: null, mean: null };
  const a = Float64Array.from(values).sort();
  const at = (q) => a[Math.min(a.length - 1, Math.floor(q * a.length))];
  let sum = 0;
  for (const v of a) sum += v;
  const r = (x) => Math.round(x * 100) / 100;
  return { p50: r(at(0.5)), p90: r(at(0.9)), p99: r(at(0.99)), max: r(a[a.length - 1]), mean: r(sum / a.length) };
}

try {
  if (!cfg.amount && cfg.warmupSec > 0) await run({ durationSec: cfg.warmupSec });
  await send({ type: 'start' });
  const r = await run({ durationSec: cfg.durationSec, amount: cfg.amount });
  const ok = Object.entries(r.status).reduce((s, [code, c]) => (Number(code) < 300 ? s + c : s), 0);
  const total = Object.values(r.status).reduce((s, c) => s + c, 0);
  await send({
    type: 'result',
    elapsedSec: Math.round(r.elapsedSec * 1000) / 1000,
    requests: total,
    ok,
    status: r.status,
    errors: r.errors,
    timeouts: r.timeouts,
    okPerSec: ok / r.elapsedSec,
    eventsPerSec: (ok * pool.eventsPerBody) / r.elapsedSec,
    latencyMs: percentiles(r.latencies),
    bodiesUsed: next,
  });
  process.exitCode = 0;
} catch (err) {
  await send({ type: 'error', message: err instanceof Error ? err.stack : String(err) });
  process.exitCode = 1;
}
// Every message is flushed (awaited above); autocannon may leave sockets half-closed, and
// the parent waits for this process to exit.
process.exit();
