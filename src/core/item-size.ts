/**
 * UTF-8 byte length of JSON.stringify(item) for a batch item, reusing the serialisations of
 * its properties and traits that are made anyway for storage. A batch item's size is its
 * compact serialisation (SPEC.md); serialising every item a third time cost ~15% of the
 * batch endpoint's main-thread time.
 */
import type { JsonObject } from './types.js';

type Override = (key: string) => number | null;

function objectBytes(obj: JsonObject, override: Override): number {
  let bytes = 2; // braces
  let n = 0;
  for (const key in obj) {
    if (!Object.prototype.hasOwnProperty.call(obj, key)) continue;
    const value = obj[key];
    if (value === undefined) continue; // JSON.stringify omits it (JSON.parse never makes one)
    const known = override(key);
    bytes += Buffer.byteLength(JSON.stringify(key)) + 1 + (known ?? Buffer.byteLength(JSON.stringify(value)));
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
