/**
 * UTF-8 byte length of JSON.stringify(item) for a batch item, reusing the serialisations of
 * its properties and traits that are made anyway for storage. A batch item's size is its
 * compact serialisation (SPEC.md); serialising every item a third time cost ~15% of the
 * batch endpoint's main-thread time.
 *
 * Everything else in the item (unknown fields, however deep) is measured by jsonByteLength,
 * which walks with a heap stack: JSON.stringify recurses natively and throws a RangeError
 * from ~5,000 levels (Node 20), and a 4,100-level unknown field inside a request handler was
 * enough to fail a whole batch with a 500.
 */
import type { JsonObject } from './types.js';

type Override = (key: string) => number | null;

/** Own enumerable members JSON.stringify leaves out of an object (JSON.parse never makes them). */
function omitted(v: unknown): boolean {
  return v === undefined || typeof v === 'function' || typeof v === 'symbol';
}

function stringBytes(s: string): number {
  // JSON.stringify of a string is flat (no recursion); it also escapes lone surrogates.
  return Buffer.byteLength(JSON.stringify(s));
}

/**
 * UTF-8 byte length of JSON.stringify(value) for a value JSON.parse can produce, without
 * recursion. The length of a serialisation is the sum of its parts, so the walk needs no
 * order: a work list of values still to measure, each container adding its brackets, keys,
 * colons and commas. Work and memory are linear in the value's size.
 */
export function jsonByteLength(value: unknown): number {
  return jsonLength(value, stringBytes, (t) => Buffer.byteLength(t));
}

/** JSON.stringify(value).length (UTF-16 code units), without recursion: as jsonByteLength. */
export function jsonCharLength(value: unknown): number {
  return jsonLength(value, (t) => JSON.stringify(t).length, (t) => t.length);
}

function jsonLength(value: unknown, str: (s: string) => number, text: (t: string) => number): number {
  let bytes = 0;
  const work: unknown[] = [value];
  while (work.length > 0) {
    const v = work.pop();
    if (typeof v === 'string') bytes += str(v);
    else if (typeof v !== 'object' || v === null) bytes += text(JSON.stringify(v) ?? 'null');
    else if (Array.isArray(v)) {
      bytes += v.length > 1 ? v.length + 1 : 2; // brackets and commas
      for (let i = 0; i < v.length; i++) {
        const item: unknown = v[i];
        if (omitted(item)) bytes += 4; // JSON.stringify writes null in an array
        else work.push(item);
      }
    } else {
      let n = 0;
      for (const key of Object.keys(v)) {
        const member: unknown = (v as Record<string, unknown>)[key];
        if (omitted(member)) continue;
        bytes += str(key) + 1; // "key":
        work.push(member);
        n++;
      }
      bytes += n > 1 ? n + 1 : 2; // braces and commas
    }
  }
  return bytes;
}

function objectBytes(obj: JsonObject, override: Override): number {
  let bytes = 2; // braces
  let n = 0;
  for (const key in obj) {
    if (!Object.prototype.hasOwnProperty.call(obj, key)) continue;
    const value = obj[key];
    if (value === undefined) continue; // JSON.stringify omits it (JSON.parse never makes one)
    const known = override(key);
    bytes += stringBytes(key) + 1 + (known ?? jsonByteLength(value));
    n++;
  }
  return n > 1 ? bytes + n - 1 : bytes; // commas
}

/**
 * @param item the validated batch item (a plain object with a plain-object `identify`)
 * @param propertiesJson JSON.stringify(item.properties) when that is a non-empty object, else null
 * @param traitsJson JSON.stringify(item.identify.traits) when that is a non-empty object, else null
 */
export function itemByteLength(item: JsonObject, propertiesJson: string | null, traitsJson: string | null): number {
  return objectBytes(item, (key) => {
    if (key === 'properties' && propertiesJson !== null) return Buffer.byteLength(propertiesJson);
    if (key === 'identify') {
      const identify = item.identify as JsonObject;
      return objectBytes(identify, (k) => (k === 'traits' && traitsJson !== null ? Buffer.byteLength(traitsJson) : null));
    }
    return null;
  });
}
