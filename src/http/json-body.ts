/**
 * The one request body parser: `application/json`, strictly UTF-8.
 *
 * The body arrives as bytes and is decoded with a fatal TextDecoder, so invalid UTF-8 is a
 * 400 instead of being replaced by U+FFFD (which made distinct ids and emails collide).
 * `ignoreBOM` keeps a leading BOM in the text, where JSON.parse refuses it, as before.
 * Measured (Node 20, loaded 2-core machine): decoding a 310-byte event 0.21 µs (toString:
 * 0.22 µs), a 61 KB batch 54 µs (toString: 41 µs), against 8.5 µs and 1,670 µs for
 * JSON.parse of the same bodies.
 *
 * JSON.parse is iterative in V8, so a body nested thousands of levels deep parses without
 * recursion; our validators stop at depth 4. Numbers of 2^53 or more, which JSON.parse
 * cannot keep exactly, are refused by the validators (core/validate-properties.ts).
 */
import { Errors } from './errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Parses a JSON body; an empty body is no body (the official SDK sends a JSON content type on DELETE too). */
export function parseJsonBody(body: Buffer): unknown {
  if (body.length === 0) return undefined;
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    throw Errors.invalidUtf8();
  }
  try {
    return JSON.parse(text);
  } catch {
    throw Errors.invalidJson();
  }
}
