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
} as const;
