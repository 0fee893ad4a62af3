/**
 * The event catalogue port: per workspace, every event name processed (first and last
 * received, how many) and the JSON types seen at each of its property paths. Written once
 * per processed batch by the catalogue stage (catalog.stage.ts), exactly once per batch key
 * however often the stage job runs; read by GET /v1/catalog/events, the dashboard and
 * `smashsend catalog export`.
 */

/** What one batch adds to one event name of one workspace. */
export interface CatalogEventDelta {
  workspaceId: string;
  name: string;
  count: number;
  /** Unix ms: the earliest and latest receipt among the batch's events of this name. */
  firstSeen: number;
  lastSeen: number;
}

/** Types seen at one property path of one event name in a batch (a bit set, catalog-types.ts). */
export interface CatalogPropertyDelta {
  workspaceId: string;
  event: string;
  path: string;
  types: number;
}

export interface CatalogLimits {
  /** Event names kept per workspace: a new name beyond it is not catalogued. */
  maxEventNames: number;
  /** Property paths kept per event name: a new path beyond it is not catalogued (the event is marked truncated). */
  maxPropertiesPerEvent: number;
}

export interface CatalogRecordResult {
  /** False: this batch key was recorded before, and nothing was written. */
  applied: boolean;
  /**
   * When applied: per property delta, in input order, the types now stored at its path (a
   * superset of the delta's), or 0 when the path is not catalogued (its name or the path is
   * over a limit). Lets the stage skip writes that would change nothing.
   */
  stored: number[];
}

export interface CatalogProperty {
  path: string;
  types: number;
}

export interface CatalogEntry {
  name: string;
  firstSeen: number;
  lastSeen: number;
  count: number;
  /** Some property paths were not catalogued (over maxPropertiesPerEvent). */
  propertiesTruncated: boolean;
  /** By path. */
  properties: CatalogProperty[];
}

export interface CatalogStore {
  /**
   * In one transaction, once per `batchKey`: adds the counts (first seen the earliest, last
   * seen the latest) and ORs the property types into the catalogue. A second call with the
   * same key writes nothing and answers `applied: false`, whatever it carries.
   */
  record(input: { batchKey: string; events: CatalogEventDelta[]; properties: CatalogPropertyDelta[]; limits: CatalogLimits; now: number }): Promise<CatalogRecordResult>;
  /** The workspace's catalogue by name: at most `maxEvents` names, at most `maxProperties` paths each. */
  list(workspaceId: string, bounds: { maxEvents: number; maxProperties: number }): Promise<CatalogEntry[]>;
  /** Forgets up to `limit` batch keys recorded before `before` (their jobs are done for good), oldest first; returns how many. */
  purgeBatches(before: number, limit: number): Promise<number>;
}
