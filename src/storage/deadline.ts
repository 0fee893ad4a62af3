/**
 * `work`, or the error `expired()` returns once `ms` have passed without `work` settling: for
 * calls that must answer in bounded time whatever the store is stuck on (a statement on a
 * database that stopped answering, the GET /health probe). `work` is not cancelled (the
 * caller destroys what it must in `expired`); its late outcome is dropped, and a late
 * rejection is not left unhandled.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, expired: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(expired()), ms);
    work.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}
