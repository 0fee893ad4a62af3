/**
 * Polls for a condition with a deadline, instead of sleeping and hoping (STYLE.md §12).
 * `fn` is called until it returns a value other than `false`, `null` or `undefined` without
 * throwing; that value is the result. A throw counts as "not yet" (so `fn` may assert);
 * at the deadline the last error, or the last value, is in the rejection.
 *
 * @example
 * const contact = await eventually(() => store.contacts.findByEmail(ws, 'ann@example.com'), { timeoutMs: 5000 });
 * await eventually(() => acked.length >= 300, { timeoutMs: 20_000, intervalMs: 25 });
 */
export interface EventuallyOptions {
  timeoutMs: number;
  /** Pause between calls (default 10 ms). */
  intervalMs?: number;
  /** What is awaited, for the timeout message. */
  what?: string;
}

export async function eventually<T>(fn: () => T | Promise<T>, opts: EventuallyOptions): Promise<Exclude<T, false | null | undefined>> {
  const deadline = Date.now() + opts.timeoutMs;
  const intervalMs = opts.intervalMs ?? 10;
  for (;;) {
    let last: string;
    let cause: unknown;
    try {
      const v = await fn();
      if (v !== false && v !== null && v !== undefined) return v as Exclude<T, false | null | undefined>;
      last = `last value: ${String(v)}`;
    } catch (err) {
      cause = err;
      last = `last error: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${opts.what ?? 'a condition'} (${last})`, { cause });
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
