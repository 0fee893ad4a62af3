/**
 * A failed `listen` as one line: the cause, in the operator's terms (PORT, HOST), the OS error
 * code, and what to change. By code, never by message text.
 */
export function listenFailure(err: unknown, host: string, port: number): Error {
  const code = (err as { code?: unknown } | null)?.code;
  const at = `${host}:${port}`;
  switch (code) {
    case 'EADDRINUSE':
      return new Error(`port ${port} is in use on ${host} (EADDRINUSE); set PORT=… to a free port, or stop the process that holds it`, { cause: err });
    case 'EACCES':
      return new Error(`port ${port} needs privileges on ${host} (EACCES); set PORT=… to a port above 1023`, { cause: err });
    case 'EADDRNOTAVAIL':
      return new Error(
        `HOST ${host} is not an address of this machine (EADDRNOTAVAIL); set HOST=… to one of its addresses, 127.0.0.1, or 0.0.0.0 for every interface`,
        { cause: err },
      );
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NONAME':
      return new Error(`HOST ${host} does not resolve to an address (${code}); set HOST=… to an address of this machine, e.g. 127.0.0.1 or 0.0.0.0`, {
        cause: err,
      });
    default: {
      const detail = typeof code === 'string' ? code : err instanceof Error ? err.message : String(err);
      return new Error(`cannot listen on ${at} (${detail}); check HOST and PORT`, { cause: err });
    }
  }
}
