import { StoreUnavailableError } from '../ports.js';

export interface WriterRequest {
  id: number;
  op: string;
  args: unknown[];
}

export type WriterMessage =
  | { kind: 'reply'; id: number; ok: true; result: unknown }
  | { kind: 'reply'; id: number; ok: false; error: SerializedError }
  /** The thread could not open the database; it exits after sending this. */
  | { kind: 'open-failed'; error: SerializedError };

export interface SerializedError {
  name: string;
  message: string;
  code?: string;
  stack?: string;
  writeRefused?: boolean;
}

/** Errors cross the thread boundary as data; the domain class is rebuilt on the other side. */
export function serializeError(err: unknown): SerializedError {
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return {
      name: err.name,
      message: err.message,
      stack: err.stack,
      ...(typeof code === 'string' ? { code } : {}),
      ...(err instanceof StoreUnavailableError && err.writeRefused ? { writeRefused: true } : {}),
    };
  }
  return { name: 'Error', message: String(err) };
}

export function deserializeError(e: SerializedError): Error {
  let err: Error;
  if (e.name === 'StoreUnavailableError') err = new StoreUnavailableError(e.message, { writeRefused: e.writeRefused === true });
  else {
    err = new Error(e.message);
    err.name = e.name;
  }
  if (e.stack) err.stack = e.stack;
  if (e.code) (err as Error & { code?: string }).code = e.code;
  return err;
}
