/** The numeric limits of SPEC.md, in one place. */
export const LIMITS = {
  eventNameMaxChars: 60,
  messageIdMaxChars: 128,
  emailMaxChars: 254,
  maxDepth: 3,
  maxLeafKeys: 100,
  maxStringChars: 1000,
  maxArrayItems: 100,
  /** Single event body, and one batch item's compact serialisation, in UTF-8 bytes. */
  maxEventBytes: 32 * 1024,
  /** Whole batch body in bytes: the source document's "6.4MB", fixed by SPEC.md as 6,553,600. */
  maxBatchBytes: 6_553_600,
  maxBatchEvents: 200,
  /** ±30 years of 365.25 days. */
  timestampRangeMs: 30 * 365.25 * 86_400_000,
  /** Numbers below this are Unix seconds, at or above it Unix milliseconds. */
  secondsThreshold: 100_000_000_000,
  /**
   * One contact's custom properties (the standard ones, email, status, firstName…, do not
   * count). A trait or contacts API write that would add one more is refused. 500, as CRMs
   * allow a few hundred custom fields per record: far beyond a real profile, small enough
   * that every event merged into the contact stays cheap (see contact-merge.ts).
   */
  maxContactCustomProperties: 500,
  /**
   * Cleared custom properties whose clock a contact keeps, so that an older event cannot
   * bring the value back (tombstones). Beyond this the oldest is forgotten.
   */
  maxContactClearedProperties: 500,
  /**
   * JSON characters of one contact's properties and their clocks together (~500 properties
   * of ~500 characters each). Keeps the blob every merge parses and writes bounded even with
   * long values and names; a write that would grow a contact beyond it is refused.
   */
  maxContactJsonChars: 512 * 1024,
} as const;
