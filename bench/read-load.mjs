/**
 * The read load of the bench's reads phase, run by run-bench.mjs as its own process: GET
 * requests cycling through `paths` (reads by messageId, email, event name, contact search
 * over a large workspace), with autocannon, while another process measures ingest beside it.
 *
 * Config (JSON in argv[2]): target, key, paths, connections, durationSec, overallRate (optional).
 * Message to the parent: {type:'result', okPerSec, status, latencyMs} (or {type:'error'}).
 */
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';

const cfg = JSON.parse(process.argv[2]);
const send = (m) => new Promise((resolve) => (process.send ? process.send(m, () => resolve()) : process.stdout.write(`${JSON.stringify(m)}\n`, () => resolve())));

function percentiles(values) {
  if (values.length === 0) return { p50: null, p99: null, max: null };
  const a = Float64Array.from(values).sort();
  const at = (q) => a[Math.min(a.length - 1, Math.floor(q * a.length))];
  const r = (x) => Math.round(x * 100) / 100;
  return { p50: r(at(0.5)), p99: r(at(0.99)), max: r(a[a.length - 1]) };
}

try {
  let next = 0;
  const latencies = [];
  const status = {};
  const started = performance.now();
  await new Promise((resolve, reject) => {
    const opts = {
      url: cfg.target,
      connections: cfg.connections,
      pipelining: 1,
      timeout: 20,
      duration: cfg.durationSec,
      requests: [
        {
          method: 'GET',
          headers: { authorization: `Bearer ${cfg.key}` },
          setupRequest: (req) => {
            req.path = cfg.paths[next++ % cfg.paths.length];
            return req;
          },
        },
      ],
    };
    if (cfg.overallRate) opts.overallRate = cfg.overallRate;
    const inst = autocannon(opts, (err, res) => (err ? reject(err) : resolve(res)));
    inst.on('response', (_client, code, _bytes, ms) => {
      status[code] = (status[code] ?? 0) + 1;
      if (code >= 200 && code < 300) latencies.push(ms);
    });
  });
  const sec = (performance.now() - started) / 1000;
  const ok = Object.entries(status).reduce((s, [code, c]) => (Number(code) < 300 ? s + c : s), 0);
  await send({ type: 'result', okPerSec: ok / sec, requests: Object.values(status).reduce((a, b) => a + b, 0), status, latencyMs: percentiles(latencies) });
  process.exitCode = 0;
} catch (err) {
  await send({ type: 'error', message: err instanceof Error ? err.stack : String(err) });
  process.exitCode = 1;
}
process.exit();
