/**
 * The memory attack of issue #15 (item 2), as a load of its own: `concurrent` connections each
 * POST full 6.4 MB batches (200 events of ~32 KB) back to back, while `stalled` connections
 * declare a 6 MB body and send almost none of it. Used by run-bench.mjs's backpressure phase;
 * runnable alone:
 *
 *   node bench/body-attack.mjs '{"url":"http://127.0.0.1:3000","key":"sk_live_…","concurrent":80,"stalled":200,"durationSec":10}'
 *
 * Prints one JSON line: statuses, latency percentiles of the full batches, and what the
 * stalled connections were answered (503 at once, 408 after REQUEST_BODY_TIMEOUT_MS, or
 * nothing: still open at the end).
 */
import { connect } from 'node:net';
import { performance } from 'node:perf_hooks';

const BATCH_EVENTS = 200;
const EVENT_PAD = 32_000; // bytes of property text per event: the batch lands just under 6,553,600

/** One 6.4 MB batch; `n` keeps messageIds unique. */
export function bigBatch(prefix, n) {
  const pad = 'x'.repeat(EVENT_PAD);
  const events = [];
  for (let k = 0; k < BATCH_EVENTS; k++) {
    events.push(`{"event":"attack.big","identify":{"email":"a${k}@example.com"},"properties":{"pad":"${pad.slice(0, 990)}","p2":"${pad.slice(0, 990)}","blob":[${Array.from({ length: 29 }, () => `"${pad.slice(0, 990)}"`).join(',')}]},"messageId":"${prefix}.${n}.${k}"}`);
  }
  return Buffer.from(`{"events":[${events.join(',')}]}`);
}

function pct(sorted, p) {
  if (sorted.length === 0) return null;
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]);
}

/** One raw request on a fresh connection; resolves with the status (or an error name). */
function rawPost(url, key, body, { stallAfter = -1, declared = body.length, timeoutMs = 120_000 } = {}) {
  const u = new URL(url);
  return new Promise((resolve) => {
    const t0 = performance.now();
    const sock = connect({ host: u.hostname, port: Number(u.port) });
    let got = '';
    let done = false;
    const finish = (status) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      sock.destroy();
      resolve({ status, ms: performance.now() - t0 });
    };
    const timer = setTimeout(() => finish('open'), timeoutMs);
    sock.on('connect', () => {
      sock.write(
        `POST /v1/events/batch HTTP/1.1\r\nHost: ${u.host}\r\nAuthorization: Bearer ${key}\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\nConnection: close\r\n\r\n`,
      );
      if (stallAfter >= 0) sock.write(body.subarray(0, stallAfter));
      else sock.write(body);
    });
    sock.on('data', (d) => {
      got += d.toString('latin1');
      const m = /^HTTP\/1\.1 (\d{3})/.exec(got);
      if (m) finish(Number(m[1]));
    });
    sock.on('error', (e) => finish(e.code ?? 'error'));
    sock.on('close', () => finish('closed'));
  });
}

export async function runAttack({ url, key, concurrent = 80, stalled = 200, durationSec = 10, prefix = `atk${Date.now()}` }) {
  const statuses = {};
  const stalledStatuses = {};
  const latencies = [];
  const count = (o, k) => (o[k] = (o[k] ?? 0) + 1);
  const bodies = [bigBatch(prefix, 0), bigBatch(prefix, 1)];
  const stallers = Array.from({ length: stalled }, (_, i) =>
    rawPost(url, key, bodies[0], { stallAfter: 100, declared: 6_000_000, timeoutMs: (durationSec + 5) * 1000 }).then((r) => count(stalledStatuses, r.status)),
  );
  const end = performance.now() + durationSec * 1000;
  let n = 2;
  const workers = Array.from({ length: concurrent }, async () => {
    while (performance.now() < end) {
      const r = await rawPost(url, key, n % 2 === 0 ? bigBatch(prefix, n++) : bodies[n++ % 2]);
      count(statuses, r.status);
      if (r.status === 200 || r.status === 207) latencies.push(r.ms);
      // A refused client backs off as the SDK would (Retry-After: 1), not in a tight loop.
      if (r.status === 503) await new Promise((res) => setTimeout(res, 1000));
    }
  });
  await Promise.all(workers);
  await Promise.all(stallers);
  latencies.sort((a, b) => a - b);
  return { concurrent, stalled, durationSec, statuses, stalledStatuses, okLatencyMs: { p50: pct(latencies, 50), p99: pct(latencies, 99), max: pct(latencies, 100) } };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const cfg = JSON.parse(process.argv[2] ?? '{}');
  runAttack(cfg).then((r) => console.log(JSON.stringify(r)));
}
