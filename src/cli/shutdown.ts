import type { Logger } from 'pino';

/**
 * Resolves after SIGTERM/SIGINT once `shutdown` has run (once, in order). A force-exit timer
 * (unref'd, so it never keeps the process alive) ends a shutdown that hangs.
 */
export function onShutdownSignal(log: Logger, shutdown: () => Promise<void>, forceAfterMs = 15_000): Promise<void> {
  return new Promise((resolve) => {
    let started = false;
    const handler = (signal: NodeJS.Signals) => {
      // A second signal is common and must not cut the shutdown short: under `npm start`, a
      // Ctrl-C or systemd's SIGTERM reaches both npm and the server, and npm forwards its copy.
      if (started) {
        log.info({ signal }, 'already shutting down');
        return;
      }
      started = true;
      log.info({ signal }, 'shutting down');
      const force = setTimeout(() => {
        log.error('shutdown timed out; exiting');
        process.exit(1);
      }, forceAfterMs);
      force.unref();
      shutdown().then(
        () => {
          log.info('shutdown complete');
          resolve();
        },
        (err) => {
          log.error({ err }, 'shutdown failed');
          process.exitCode = 1;
          resolve();
        },
      );
    };
    // `on`, not `once`: with no listener left, a repeated signal would kill the process mid-shutdown.
    process.on('SIGTERM', handler);
    process.on('SIGINT', handler);
  });
}
