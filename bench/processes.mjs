/**
 * Measuring run-bench.mjs's children: /proc sampling (RSS, CPU per process and per thread,
 * run-queue wait) and /metrics scraping. The children themselves are started and stopped by
 * the launcher shared with the tests (src/testing/server-process.ts, compiled to dist/), each
 * in a process group of its own, so a failure or Ctrl-C never leaves a server running.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const CLK_TCK = 100; // Linux USER_HZ: /proc CPU times are in 1/100 s

/** VmRSS, VmHWM (peak RSS), RssAnon, RssFile of a process, in MiB; null once it is gone. */
export function memoryOf(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = (k) => Number(s.match(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm'))?.[1] ?? NaN) / 1024;
    return { rss: kb('VmRSS'), hwm: kb('VmHWM'), anon: kb('RssAnon'), file: kb('RssFile') };
  } catch {
    return null;
  }
}

function ticksOf(statPath) {
  const s = readFileSync(statPath, 'utf8');
  // Fields after the ")" of comm: state is field 3, utime 14, stime 15.
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]);
}

/**
 * CPU seconds used so far by a process (all threads, from /proc/PID/stat), and per thread
 * from /proc/PID/task/TID/schedstat: seconds on a CPU, and seconds runnable but waiting for
 * one (run-queue wait: the thread had work and the machine had no core free for it).
 */
export function cpuOf(pid) {
  try {
    const total = ticksOf(`/proc/${pid}/stat`) / CLK_TCK;
    const threads = {};
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      try {
        const [run, wait] = readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ').map(Number);
        threads[tid] = { run: run / 1e9, wait: wait / 1e9 };
      } catch {
        // thread ended
      }
    }
    return { total, threads };
  } catch {
    return null;
  }
}

/** Busy and total jiffies of the whole machine (/proc/stat), for "was the machine saturated". */
export function machineCpu() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const idle = f[3] + f[4];
  const total = f.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}

/**
 * CPU use over a window, as cores busy (1.0 = one core flat out): per named process (a pid,
 * or a list of pids summed, e.g. PostgreSQL backends), the main thread and the busiest other
 * thread of a single process, and the whole machine.
 */
export class CpuWindow {
  constructor(procs) {
    this.procs = procs; // { name: pid | pid[] }
    this.t0 = process.hrtime.bigint();
    this.m0 = machineCpu();
    this.c0 = new Map();
    for (const pid of this.allPids()) this.c0.set(pid, cpuOf(pid));
  }

  allPids() {
    return Object.values(this.procs).flatMap((p) => (Array.isArray(p) ? p : [p]));
  }

  end() {
    const sec = Number(process.hrtime.bigint() - this.t0) / 1e9;
    const m1 = machineCpu();
    const out = { seconds: round2(sec), machineBusyCores: round2(((m1.busy - this.m0.busy) / (m1.total - this.m0.total)) * nproc()) };
    for (const [name, p] of Object.entries(this.procs)) {
      if (Array.isArray(p)) {
        let sum = 0;
        let wait = 0;
        for (const pid of p) {
          const a = this.c0.get(pid);
          const b = cpuOf(pid);
          if (!a || !b) continue;
          sum += b.total - a.total;
          for (const [tid, t] of Object.entries(b.threads)) wait += t.wait - (a.threads[tid]?.wait ?? 0);
        }
        out[name] = { cores: round2(sum / sec), allThreadsWaitingForCpu: round2(wait / sec), processes: p.length };
        continue;
      }
      const a = this.c0.get(p);
      const b = cpuOf(p);
      if (!a || !b) continue;
      const d = (tid) => {
        const x = b.threads[tid];
        const y = a.threads[tid] ?? { run: 0, wait: 0 };
        return x ? { run: x.run - y.run, wait: x.wait - y.wait } : { run: 0, wait: 0 };
      };
      const main = d(p);
      let busiest = { run: 0, wait: 0 };
      let waitAll = 0;
      for (const tid of Object.keys(b.threads)) {
        const t = d(tid);
        waitAll += t.wait;
        if (Number(tid) !== p && t.run > busiest.run) busiest = t;
      }
      out[name] = {
        cores: round2((b.total - a.total) / sec),
        mainThread: round2(main.run / sec),
        mainThreadWaitingForCpu: round2(main.wait / sec),
        busiestOtherThread: round2(busiest.run / sec),
        busiestOtherThreadWaitingForCpu: round2(busiest.wait / sec),
        allThreadsWaitingForCpu: round2(waitAll / sec),
      };
    }
    return out;
  }
}

let cachedNproc;
export function nproc() {
  cachedNproc ??= readFileSync('/proc/cpuinfo', 'utf8').split('\n').filter((l) => l.startsWith('processor')).length;
  return cachedNproc;
}

export function round2(x) {
  return Math.round(x * 100) / 100;
}

/** Samples the memory of some processes every `everyMs`; `stop()` returns max and series. */
export class MemorySampler {
  constructor(pids, everyMs = 250) {
    this.pids = pids;
    this.series = [];
    this.t0 = Date.now();
    this.timer = setInterval(() => this.sample(), everyMs);
    this.sample();
  }

  sample() {
    const row = { t: Math.round((Date.now() - this.t0) / 100) / 10 };
    for (const pid of this.pids) row[pid] = memoryOf(pid);
    this.series.push(row);
  }

  stop() {
    clearInterval(this.timer);
    this.sample();
    const per = {};
    for (const pid of this.pids) {
      const rows = this.series.map((r) => r[pid]).filter(Boolean);
      if (rows.length === 0) continue;
      per[pid] = {
        first: round2(rows[0].rss),
        last: round2(rows[rows.length - 1].rss),
        max: round2(Math.max(...rows.map((r) => r.rss))),
        hwm: round2(rows[rows.length - 1].hwm),
        maxAnon: round2(Math.max(...rows.map((r) => r.anon))),
      };
    }
    return per;
  }
}

/** Prometheus text → { 'name': sum over label sets, 'name{labels}': value }. */
export async function scrapeMetrics(baseUrl) {
  const res = await fetch(`${baseUrl}/metrics`);
  const text = await res.text();
  const out = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/);
    if (!m) continue;
    const v = Number(m[3]);
    if (m[2]) out[m[1] + m[2]] = v;
    out[m[1]] = (out[m[1]] ?? 0) + v;
  }
  return out;
}

export { sleep };
