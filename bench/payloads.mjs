/**
 * Request bodies for the benchmark: realistic `purchase.completed` events, each with its own
 * messageId, so every request the server accepts stores a new event (no dedup shortcut).
 *
 * Bodies are built by string templates, not JSON.stringify of objects: ~0.5 µs per event
 * (~1.3 µs with the Buffer), so the pool of 100,000 single bodies takes ~0.15 s to build
 * before the timed run and the load generator spends its CPU on sending, not on building.
 */

const CURRENCIES = ['USD', 'EUR', 'GBP', 'JPY'];
const PLANS = ['free', 'pro', 'team'];

/** The event as the API receives it; `n` makes it unique within `idPrefix`. */
export function eventJson(idPrefix, n) {
  const amount = ((n * 7919) % 50000) / 100;
  const sku = n % 97;
  return (
    `{"event":"purchase.completed","identify":{"email":"user${n % 1000}@example.com","traits":{"plan":"${PLANS[n % 3]}","n":${n}}},` +
    `"properties":{"orderId":"ord_${idPrefix}_${n}","amount":${amount},"currency":"${CURRENCIES[n % 4]}",` +
    `"items":["sku_${sku}","sku_${sku + 1}","sku_${sku + 2}"],"coupon":null,"shipping":{"method":"express","country":"DE"}},` +
    `"messageId":"${idPrefix}.${n}"}`
  );
}

export function singleBody(idPrefix, n) {
  return Buffer.from(eventJson(idPrefix, n));
}

export function batchBody(idPrefix, batchNo, size) {
  const parts = new Array(size);
  for (let k = 0; k < size; k++) parts[k] = eventJson(idPrefix, batchNo * size + k);
  return Buffer.from(`{"events":[${parts.join(',')}]}`);
}

/**
 * One `track` as @segment/analytics-node builds it (analytics-core's EventFactory: type,
 * event, userId, properties, context.library, integrations, messageId, timestamp,
 * _metadata), with the same properties as eventJson. The userId is an email, so each call
 * resolves without a link lookup (the common case once identify has run is one indexed read).
 */
export function segmentTrackJson(idPrefix, n) {
  const amount = ((n * 7919) % 50000) / 100;
  const sku = n % 97;
  return (
    `{"type":"track","event":"Order Completed","userId":"user${n % 1000}@example.com",` +
    `"properties":{"orderId":"ord_${idPrefix}_${n}","amount":${amount},"currency":"${CURRENCIES[n % 4]}",` +
    `"items":["sku_${sku}","sku_${sku + 1}","sku_${sku + 2}"],"coupon":null,"shipping":{"method":"express","country":"DE"}},` +
    `"context":{"library":{"name":"@segment/analytics-node","version":"3.1.0"}},"integrations":{},` +
    `"messageId":"node-next-${idPrefix}.${n}","timestamp":"${new Date().toISOString()}","_metadata":{"nodeVersion":"20.19.0","jsRuntime":"node"}}`
  );
}

/** A `/v1/batch` body as analytics-node's publisher sends it: `{batch, writeKey, sentAt}`. */
export function segmentBatchBody(idPrefix, batchNo, size, writeKey) {
  const parts = new Array(size);
  for (let k = 0; k < size; k++) parts[k] = segmentTrackJson(idPrefix, batchNo * size + k);
  return Buffer.from(`{"batch":[${parts.join(',')}],"writeKey":"${writeKey}","sentAt":"${new Date().toISOString()}"}`);
}

/**
 * The columns the server stores for `eventJson(idPrefix, n)` (what PostgresEventStore.append
 * sends), for the bare-insert reference: properties and traits as the compact JSON text the
 * server writes.
 */
export function eventRow(workspaceId, idPrefix, n, now) {
  const e = JSON.parse(eventJson(idPrefix, n));
  return [workspaceId, e.messageId, e.event, e.identify.email, JSON.stringify(e.properties), JSON.stringify(e.identify.traits), now, now];
}

/**
 * A pool of prebuilt bodies in one buffer; `body(i)` is a cheap view. Past the pool's end,
 * `unique` pools build new bodies on the fly (the server must never see a messageId twice);
 * other pools (the ceiling, which stores nothing) cycle.
 */
export class BodyPool {
  constructor({ kind, idPrefix, size, batchSize = 200, unique = true, writeKey = 'ceiling' }) {
    this.kind = kind;
    this.idPrefix = idPrefix;
    this.batchSize = batchSize;
    this.unique = unique;
    this.size = size;
    const make = (i) =>
      kind === 'single' ? singleBody(idPrefix, i) : kind === 'segment' ? segmentBatchBody(idPrefix, i, batchSize, writeKey) : batchBody(idPrefix, i, batchSize);
    this.make = make;
    const chunks = [];
    this.offsets = new Float64Array(size + 1);
    let off = 0;
    for (let i = 0; i < size; i++) {
      const b = make(i);
      chunks.push(b);
      this.offsets[i] = off;
      off += b.length;
    }
    this.offsets[size] = off;
    this.buf = Buffer.concat(chunks, off);
  }

  body(i) {
    if (i < this.size) return this.buf.subarray(this.offsets[i], this.offsets[i + 1]);
    if (this.unique) return this.make(i);
    const j = i % this.size;
    return this.buf.subarray(this.offsets[j], this.offsets[j + 1]);
  }

  /** Events carried by one body. */
  get eventsPerBody() {
    return this.kind === 'single' ? 1 : this.batchSize;
  }
}
